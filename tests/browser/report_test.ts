/**
 * The HTML report and the live dashboard in a real headless Chromium: pages open without
 * console errors, every plot renders, the dashboard follows a run while it writes metrics, and
 * screenshots are taken (kept in `$GOSSAMER_SCREENSHOTS` when set, else in a temporary folder).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, gossip, ring, run } from "../../mod.ts";
import { buildReport, serveDashboard } from "../../report/mod.ts";
import type { MetricsLine } from "../../runtime/metrics.ts";
import { leastSquaresPipeline, tinyMnist } from "../runtime/_plans.ts";
import { lockRunFolder } from "../../runtime/coordinator/run_folder.ts";
import { type Browser, openBrowser, type Page } from "./_chromium.ts";

/** Where screenshots go. */
async function screenshotFolder(): Promise<string> {
  const kept = Deno.env.get("GOSSAMER_SCREENSHOTS");
  if (kept === undefined) return await Deno.makeTempDir({ prefix: "gossamer_shots_" });
  await Deno.mkdir(kept, { recursive: true });
  return kept;
}

/** Asserts a screenshot was written as a PNG of some substance. */
async function assertPng(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${path} is a PNG`);
  assert.ok(bytes.length > 10_000, `${path} has content (${bytes.length} bytes)`);
}

/** Every figure holds an SVG with drawn marks (lines, points or bars), and there are `least`. */
async function assertEveryPlotRenders(page: Page, least = 7): Promise<number> {
  const figures = await page.evaluate<{ id: string; marks: number }[]>(`
    [...document.querySelectorAll("figure")].map((figure) => ({
      id: figure.id,
      marks: figure.querySelectorAll("svg path, svg line, svg rect.mark, svg g.mark-symbol path").length,
    }))`);
  assert.ok(figures.length >= least, `expected the report's plots, found ${figures.length}`);
  for (const figure of figures) assert.ok(figure.marks > 0, `${figure.id} draws nothing`);
  return figures.length;
}

/** Opens a browser for the body, and always closes it. */
async function withBrowser(body: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await openBrowser();
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}

Deno.test("the comparison report opens offline with no console errors and every plot drawn", async () => {
  const parent = await Deno.makeTempDir({ prefix: "gossamer_report_" });
  const shots = await screenshotFolder();
  try {
    // A classifier (accuracy curves) and two least-squares runs, one decentralized (consensus).
    await run(tinyMnist(30), { transport: "memory", out: join(parent, "mnist") });
    await run(leastSquaresPipeline(30).base(allReduce()).compile(), {
      transport: "memory",
      out: join(parent, "all_reduce"),
    });
    await run(leastSquaresPipeline(30).base(gossip(ring)).compile(), {
      transport: "memory",
      out: join(parent, "gossip"),
    });
    for (const runs of [["mnist"], ["all_reduce", "gossip"]]) {
      const report = await buildReport(runs.map((name) => join(parent, name)), { target: 0.5 });
      const file = join(parent, `${runs.join("_")}.html`);
      await Deno.writeTextFile(file, report.html);
      assert.doesNotMatch(report.html, /<script|https?:\/\/(?!www\.w3\.org)/, "self-contained");
      await withBrowser(async (browser) => {
        const page = await browser.newPage({ width: 1280, height: 2000 });
        await page.goto(`file://${file}`);
        const plots = await assertEveryPlotRenders(page);
        if (runs.length === 2) {
          assert.ok(
            await page.evaluate<boolean>(`!!document.querySelector("#chart-consensus-step svg")`),
            "gossip reports its consensus distance",
          );
        }
        const rows = await page.evaluate<number>(
          `document.querySelectorAll("#compare tbody tr").length`,
        );
        assert.equal(rows, runs.length);
        const shot = join(shots, `report-${runs.join("_")}.png`);
        await page.screenshot(shot);
        await assertPng(shot);
        assert.deepEqual(page.errors(), [], `report with ${plots} plots opens cleanly`);
      });
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
    if (Deno.env.get("GOSSAMER_SCREENSHOTS") === undefined) {
      await Deno.remove(shots, { recursive: true });
    }
  }
});

/** Worker `w`'s step `k` of a hand-written run. */
function step(k: number, w: number): MetricsLine {
  const sent = { base: 400, outer: 0, compressed: 0, control: 0, state: 0 };
  return {
    type: "step",
    step: k,
    worker: w,
    loss: 2 / (k + 1),
    lr: 0.1,
    computeMs: 1,
    commMs: 1,
    elapsedMs: 10 * (k + 1),
    bytesSent: sent,
    bytesReceived: sent,
  };
}

Deno.test("the dashboard lists runs, follows one live while it writes metrics, and refuses other paths", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_dashboard_" });
  const shots = await screenshotFolder();
  const controller = new AbortController();
  let port = 0;
  let lock: { release(): void } | null = null;
  const server = await serveDashboard({
    root,
    port: 0,
    signal: controller.signal,
    onListen: (address) => port = address.port,
  });
  try {
    // A finished run, and a run that is still training (written line by line below).
    await run(leastSquaresPipeline(20).base(allReduce()).compile(), {
      transport: "memory",
      out: join(root, "finished"),
    });
    const live = join(root, "live", "gossip");
    await Deno.mkdir(live, { recursive: true });
    const plan = leastSquaresPipeline(40).base(gossip(ring)).compile();
    await Deno.writeTextFile(join(live, "plan.json"), JSON.stringify(plan));
    // Still being written: this process holds the folder's lock, as a run does.
    lock = await lockRunFolder(live);
    const stepLines = (k: number) =>
      Array.from({ length: plan.workers }, (_, w) => JSON.stringify(step(k, w)));
    // One write per batch of lines: the dashboard polls the file and must never see half of one.
    const append = async (lines: string[]) => {
      await Deno.writeTextFile(join(live, "metrics.jsonl"), lines.join("\n") + "\n", {
        append: true,
      });
    };
    await append([0, 1, 2, 3, 4].flatMap(stepLines));
    const base = `http://127.0.0.1:${port}`;

    for (const bad of ["../etc", "/etc", "live/../..", "nowhere", "live"]) {
      const response = await fetch(`${base}/run?run=${encodeURIComponent(bad)}`);
      assert.equal(response.status, 404, bad);
      await response.body?.cancel();
    }

    await withBrowser(async (browser) => {
      const index = await browser.newPage({ width: 1100, height: 700 });
      await index.goto(`${base}/`);
      const listed = await index.evaluate<string[]>(
        `[...document.querySelectorAll("#runs tbody tr")].map((tr) => tr.cells[1].textContent + " " + tr.cells[5].textContent)`,
      );
      assert.deepEqual(listed.sort(), ["finished completed", "live/gossip running"]);
      await index.screenshot(join(shots, "dashboard-index.png"));
      assert.deepEqual(index.errors(), []);

      const page = await browser.newPage({ width: 1280, height: 1800 });
      await page.goto(`${base}/run?run=${encodeURIComponent("live/gossip")}`);
      const steps = () =>
        page.evaluate<string>(
          `document.querySelector("#compare tbody td:nth-child(4)").textContent`,
        );
      assert.equal(await steps(), "5/40");
      // The run writes five more steps; the page follows without a reload.
      await append([
        ...[5, 6, 7, 8, 9].flatMap(stepLines),
        JSON.stringify({
          type: "eval",
          step: 9,
          model: "average",
          worker: null,
          testLoss: 0.5,
          testAccuracy: null,
        }),
      ]);
      await page.waitFor(
        `document.querySelector("#compare tbody td:nth-child(4)").textContent === "10/40"`,
        15_000,
      );
      assert.ok(Number(await page.evaluate<string>(`document.body.dataset.updates`)) >= 1);
      await assertEveryPlotRenders(page);
      const shot = join(shots, "dashboard-live.png");
      await page.screenshot(shot);
      await assertPng(shot);
      assert.deepEqual(page.errors(), []);

      const compare = await browser.newPage({ width: 1280, height: 1800 });
      await compare.goto(`${base}/compare?run=finished&run=${encodeURIComponent("live/gossip")}`);
      assert.equal(
        await compare.evaluate<number>(`document.querySelectorAll("#compare tbody tr").length`),
        2,
      );
      assert.deepEqual(compare.errors(), []);
    });
  } finally {
    lock?.release();
    controller.abort();
    await server.finished;
    await Deno.remove(root, { recursive: true });
    if (Deno.env.get("GOSSAMER_SCREENSHOTS") === undefined) {
      await Deno.remove(shots, { recursive: true });
    }
  }
});

Deno.test("the dashboard follows an elastic run's membership live: the count, the leave and its chart", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_dashboard_" });
  const shots = await screenshotFolder();
  const controller = new AbortController();
  let port = 0;
  let lock: { release(): void } | null = null;
  const server = await serveDashboard({
    root,
    port: 0,
    signal: controller.signal,
    onListen: (address) => port = address.port,
  });
  try {
    const live = join(root, "elastic");
    await Deno.mkdir(live);
    const plan = leastSquaresPipeline(40).base(allReduce()).elastic({ minWorkers: 3 }).compile();
    await Deno.writeTextFile(join(live, "plan.json"), JSON.stringify(plan));
    lock = await lockRunFolder(live);
    const append = async (lines: readonly MetricsLine[]) => {
      await Deno.writeTextFile(
        join(live, "metrics.jsonl"),
        lines.map((line) => JSON.stringify(line)).join("\n") + "\n",
        { append: true },
      );
    };
    await append([0, 1, 2, 3, 4].flatMap((k) => [0, 1, 2, 3].map((w) => step(k, w))));
    await withBrowser(async (browser) => {
      const page = await browser.newPage({ width: 1280, height: 2400 });
      await page.goto(`http://127.0.0.1:${port}/run?run=elastic`);
      const liveCount =
        `document.querySelector("#membership-live tbody td:nth-child(2)").textContent`;
      assert.equal(await page.evaluate<string>(liveCount), "4 of 4");
      // Worker 2 is lost in step 5; worker 0 had written step 5, which the survivors redo.
      await append([
        step(5, 0),
        {
          type: "membership",
          step: 5,
          worker: 0,
          left: [2],
          members: [0, 1, 3],
          reason: "lost",
          detail:
            "Worker 2 disconnected from the coordinator before finishing (it died or was killed)",
        },
        ...[5, 6, 7, 8, 9].flatMap((k) => [0, 1, 3].map((w) => step(k, w))),
      ]);
      await page.waitFor(`${liveCount} === "3 of 4"`, 15_000);
      assert.deepEqual(
        await page.evaluate<string[]>(
          `[...document.querySelectorAll("#membership-events tbody td")].slice(0, 5).map((td) => td.textContent)`,
        ),
        ["elastic", "5", "worker 2 lost", "lost", "0, 1, 3"],
      );
      assert.equal(
        await page.evaluate<string>(
          `document.querySelector("#compare tbody td:nth-child(4)").textContent`,
        ),
        "10/40",
      );
      // No evaluation yet: three training-loss plots, the workers' time and the membership.
      await assertEveryPlotRenders(page, 5);
      assert.ok(
        await page.evaluate<boolean>(`!!document.querySelector("#chart-membership svg path")`),
        "the membership chart draws its step line",
      );
      const shot = join(shots, "dashboard-elastic.png");
      await page.screenshot(shot);
      await assertPng(shot);
      assert.deepEqual(page.errors(), []);
    });
  } finally {
    lock?.release();
    controller.abort();
    await server.finished;
    await Deno.remove(root, { recursive: true });
    if (Deno.env.get("GOSSAMER_SCREENSHOTS") === undefined) {
      await Deno.remove(shots, { recursive: true });
    }
  }
});
