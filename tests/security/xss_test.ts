/**
 * Attacks on the pages built from run folders (issue 20, item 3): a run folder is data written
 * by whoever ran (or shared) it, so hostile values in `summary.json` and `plan.json` must reach
 * `gossamer serve`'s index and run pages, `compare --html` and the report escaped; every page
 * carries a Content-Security-Policy; the dashboard refuses requests whose Host header is not
 * its own (DNS rebinding) and, bound beyond loopback, requests without its token.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, run } from "../../mod.ts";
import { buildReport, serveDashboard } from "../../report/mod.ts";
import { leastSquaresPipeline } from "../runtime/_plans.ts";
import { fileURLToPath as fromFileUrl } from "node:url";
import { findChromium } from "../browser/_chromium.ts";
import { gossamer, ROOT, STACK_LINE } from "../_cli.ts";

/** What a hostile run folder carries: a status breaking out of an attribute, a script in steps. */
const STATUS = `x"><script>document.title="pwned-status"</script><img src=x onerror=alert(1)>`;
const STEPS = `<script>document.title="pwned-steps"</script>`;

/** Markup that only an unescaped payload puts in a page. */
const UNESCAPED = /<script>document|<img src=x|"><script|<svg onload/;

/** A run folder's name is the run's label in tables, legends (Vega's SVG) and ids. */
const NAME = "hostile<svg onload=alert(2)>";

/** A real finished run, then its files rewritten by an attacker. */
async function hostileRun(folder: string): Promise<void> {
  await run(leastSquaresPipeline(10).base(allReduce()).compile(), {
    transport: "memory",
    out: folder,
  });
  const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
  await Deno.writeTextFile(
    join(folder, "summary.json"),
    JSON.stringify({ ...summary, status: STATUS, error: STEPS }),
  );
  const planOnly = join(folder, "..", "plan-only");
  await Deno.mkdir(planOnly);
  const plan = JSON.parse(await Deno.readTextFile(join(folder, "plan.json")));
  await Deno.writeTextFile(join(planOnly, "plan.json"), JSON.stringify({ ...plan, steps: STEPS }));
}

/** Asserts a page has none of the payloads' markup and declares a CSP without inline scripts. */
function assertSafe(html: string, where: string): void {
  assert.doesNotMatch(html, UNESCAPED, `${where}: a payload reaches the page unescaped`);
  assert.match(html, /&lt;script&gt;document\.title=/, `${where}: the payload is shown as text`);
  assert.ok(!html.includes("\\n"), `${where}: no escaped newline leaks into the markup as text`);
}

/** Serves `root` for the body, and always stops the server. */
async function withDashboard(
  options: { root: string; hostname?: string; token?: string },
  body: (base: string) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  let port = 0;
  const server = await serveDashboard({
    ...options,
    port: 0,
    signal: controller.signal,
    onListen: (address) => port = address.port,
  });
  try {
    await body(`http://127.0.0.1:${port}`);
  } finally {
    controller.abort();
    await server.finished;
  }
}

/**
 * A GET written by hand over TCP, since `fetch` sets the Host header itself: its status and
 * body.
 */
async function rawGet(base: string, host: string): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(base).port) });
  await conn.write(
    new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
  );
  const reply = await new Response(conn.readable).text();
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(reply)?.[1]);
  return { status, body: reply.slice(reply.indexOf("\r\n\r\n") + 4) };
}

/** A GET that does not follow redirects. */
async function page(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(url, { headers, redirect: "manual" });
}

Deno.test("hostile summary.json and plan.json values reach the dashboard, compare --html and the report only as text", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_xss_" });
  try {
    const folder = join(root, NAME);
    await hostileRun(folder);

    const report = await buildReport([folder]);
    assertSafe(report.html, "report");
    assert.match(
      report.html,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">/,
      "the offline report runs no script and fetches nothing",
    );
    assert.doesNotMatch(report.html, /<script/);

    await withDashboard({ root }, async (base) => {
      const index = await page(`${base}/`);
      assert.equal(index.status, 200);
      assert.match(index.headers.get("content-security-policy") ?? "", /default-src 'none'/);
      const indexHtml = await index.text();
      assert.doesNotMatch(indexHtml, UNESCAPED, "index");
      assert.match(indexHtml, /&lt;script&gt;document\.title=&quot;pwned-status/);
      assert.match(indexHtml, /&lt;script&gt;document\.title=&quot;pwned-steps/);
      assert.doesNotMatch(indexHtml, /<script/, "the index runs no script");
      assert.ok(!indexHtml.includes("\\n"), "index: no escaped newline as text");

      for (const id of [NAME, "plan-only"]) {
        const response = await page(`${base}/run?run=${encodeURIComponent(id)}`);
        assert.equal(
          response.status,
          200,
          `${id}: ${response.status === 200 ? "" : await response.clone().text()}`,
        );
        const csp = response.headers.get("content-security-policy") ?? "";
        assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/, `${id}: only its own script`);
        assert.doesNotMatch(csp, /unsafe-inline'[^;]*;?\s*$|script-src[^;]*unsafe/, id);
        const html = await response.text();
        assert.doesNotMatch(html, UNESCAPED, id);
        assert.equal(html.match(/<script/g)?.length, 1, `${id}: the live script alone`);
      }
      const compare = await page(`${base}/compare?run=${encodeURIComponent(NAME)}&run=plan-only`);
      assertSafe(await compare.text(), "dashboard comparison");
    });

    // `gossamer compare --html` writes the same page.
    const file = join(root, "report.html");
    const compared = await gossamer("compare", folder, "--html", file, "--quiet");
    assert.equal(compared.code, 0, compared.stderr);
    assertSafe(await Deno.readTextFile(file), "compare --html");

    const chromium = findChromium();
    if (chromium !== null) {
      // The browser's view: the title the payloads would set never appears.
      await withDashboard({ root }, async (base) => {
        for (
          const url of [`file://${file}`, `${base}/`, `${base}/run?run=${encodeURIComponent(NAME)}`]
        ) {
          const output = await new Deno.Command(chromium, {
            args: ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
            stdout: "piped",
            stderr: "null",
          }).output();
          const dom = new TextDecoder().decode(output.stdout);
          assert.match(dom, /<\/html>/, `${url} loaded`);
          assert.doesNotMatch(dom, /pwned-(status|steps)<\/title>|<img src="x"/, url);
        }
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the dashboard refuses a request whose Host header names another site (DNS rebinding)", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_xss_" });
  try {
    await withDashboard({ root }, async (base) => {
      const port = new URL(base).port;
      for (
        const host of ["evil.example", `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]
      ) {
        const response = await rawGet(base, host);
        assert.equal(response.status, 421, host);
        assert.match(response.body, /Host/);
      }
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
        const response = await rawGet(base, host);
        assert.equal(response.status, 200, host);
        assert.match(response.body, /gossamer runs/);
      }
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a dashboard bound beyond loopback needs its token, and refuses to start without one", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_xss_" });
  try {
    await assert.rejects(
      serveDashboard({ root, hostname: "0.0.0.0", port: 0, onListen: () => {} }),
      /token/,
    );
    const token = "0123456789abcdef0123456789abcdef";
    await withDashboard({ root, hostname: "0.0.0.0", token }, async (base) => {
      for (const url of [`${base}/`, `${base}/?token=wrong`, `${base}/events?run=x`]) {
        const refused = await page(url);
        assert.equal(refused.status, 401, url);
        assert.match(await refused.text(), /token/);
      }
      // The printed URL carries the token once; the server trades it for a cookie.
      const first = await page(`${base}/?token=${token}`);
      assert.equal(first.status, 303);
      assert.equal(first.headers.get("location"), "/");
      const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      assert.match(first.headers.get("set-cookie") ?? "", /HttpOnly; SameSite=Strict/);
      await first.body?.cancel();
      const next = await page(`${base}/`, { cookie });
      assert.equal(next.status, 200);
      await next.body?.cancel();
      const bearer = await page(`${base}/`, { authorization: `Bearer ${token}` });
      assert.equal(bearer.status, 200);
      await bearer.body?.cancel();

      const chromium = findChromium();
      if (chromium !== null) {
        // A real browser follows the printed URL, keeps the cookie, and sees the index.
        const dump = async (url: string) =>
          new TextDecoder().decode(
            (await new Deno.Command(chromium, {
              args: ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
              stdout: "piped",
              stderr: "null",
            }).output()).stdout,
          );
        assert.match(await dump(`${base}/?token=${token}`), /<h1>gossamer runs<\/h1>/);
        assert.match(await dump(`${base}/`), /needs its token/);
      }
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("gossamer serve --host 0.0.0.0 makes a token, prints it once, and refuses requests without it", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_xss_" });
  const cli = fromFileUrl(new URL("cli.ts", ROOT));
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", cli, "serve", root, "--host", "0.0.0.0", "--port", "0"],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let printed = "";
    // Bounded: a server that never says where it listens fails the test after 30 s.
    const giveUp = setTimeout(() => lines.cancel(), 30_000);
    while (!printed.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      printed += value;
    }
    clearTimeout(giveUp);
    const url = /http:\/\/0\.0\.0\.0:(\d+)\/\?token=([0-9a-f]{64})/.exec(printed);
    assert.ok(url !== null, `the URL with its token is printed: ${printed}`);
    const base = `http://127.0.0.1:${url[1]}`;
    const refused = await page(`${base}/`);
    assert.equal(refused.status, 401);
    assert.match(await refused.text(), /needs its token/);
    const signedIn = await page(`${base}/?token=${url[2]}`);
    assert.equal(signedIn.status, 303);
    await signedIn.body?.cancel();
    server.kill("SIGINT");
    await lines.cancel();
    assert.equal((await server.status).code, 0);
  } finally {
    try {
      server.kill("SIGKILL");
    } catch {
      // Already ended.
    }
    await server.status;
    await Deno.remove(root, { recursive: true });
  }

  const short = await gossamer("serve", root, "--token", "hunter2");
  assert.equal(short.code, 1);
  assert.match(short.stderr, /--token must be at least 32 characters.*openssl rand -hex 16/);
  assert.doesNotMatch(short.stderr, STACK_LINE);
});
