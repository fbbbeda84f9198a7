/**
 * Self-tests of the headless-Chromium harness (`_chromium.ts`): the browser tests of the
 * reports and the dashboard are only as trustworthy as its error reporting, evaluation,
 * waiting and screenshots, so each is checked against small pages served locally.
 */

import assert from "node:assert/strict";
import { type Browser, openBrowser } from "./_chromium.ts";

/**
 * No icon is declared: the browser then asks for `/favicon.ico`, gets a 404, and the harness
 * must not count that against the page.
 */
const HEAD = `<meta charset="utf-8">`;

/** The test pages, by path; any other path answers 404. */
const PAGES: Record<string, string> = {
  "/console.html": `<!doctype html><html><head>${HEAD}</head><body>
    <svg width="40" height="40"><circle cx="20" cy="20" r="10"/></svg>
    <svg width="40" height="40"><rect width="20" height="20"/></svg>
    <script>console.error("boom");</script>
  </body></html>`,
  "/broken.html": `<!doctype html><html><head>${HEAD}</head><body>
    <img src="/missing.png" alt="">
    <script>throw new Error("kaput");</script>
  </body></html>`,
  "/clean.html": `<!doctype html><html><head>${HEAD}</head><body>
    <h1 style="color: #1f77b4">Clean</h1>
    <svg width="200" height="100"><rect width="200" height="100" fill="#ff7f0e"/></svg>
    <p id="status">waiting</p>
    <script>setTimeout(() => { document.getElementById("status").textContent = "ready"; }, 300);
    </script>
  </body></html>`,
};

/** Serves {@linkcode PAGES} on an ephemeral port, opens a browser, and tears both down after. */
async function withBrowser(
  body: (browser: Browser, base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const page = PAGES[new URL(request.url).pathname];
    return page === undefined
      ? new Response("not found", { status: 404 })
      : new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
  });
  try {
    const browser = await openBrowser();
    try {
      await body(browser, `http://127.0.0.1:${server.addr.port}`);
    } finally {
      await browser.close();
    }
  } finally {
    await server.shutdown();
  }
}

Deno.test("errors() reports console.error with its text, and evaluate() reads the DOM", async () => {
  await withBrowser(async (browser, base) => {
    const page = await browser.newPage({ width: 800, height: 600 });
    await page.goto(`${base}/console.html`);
    assert.equal(await page.evaluate<number>(`document.querySelectorAll("svg").length`), 2);
    const errors = page.errors();
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(
      errors[0] ?? "",
      /^console\.error: boom \(http:\/\/127\.0\.0\.1:\d+\/console\.html/,
    );
  });
});

Deno.test("errors() reports an uncaught exception and a missing image", async () => {
  await withBrowser(async (browser, base) => {
    const page = await browser.newPage({ width: 800, height: 600 });
    await page.goto(`${base}/broken.html`);
    const errors = page.errors();
    assert.equal(errors.length, 2, errors.join("\n"));
    assert.ok(errors.some((error) => /^uncaught: .*Error: kaput/.test(error)), errors.join("\n"));
    assert.ok(
      errors.some((error) => /404.*\/missing\.png/.test(error)),
      errors.join("\n"),
    );
    await page.close();
  });
});

Deno.test("a clean page reports no errors; waitFor() sees a timer's DOM change", async () => {
  await withBrowser(async (browser, base) => {
    const page = await browser.newPage({ width: 800, height: 600 });
    await page.goto(`${base}/clean.html`);
    const status = `document.getElementById("status").textContent`;
    assert.equal(await page.evaluate<string>(status), "waiting");
    await page.waitFor(`${status} === "ready"`, 5_000);
    assert.equal(await page.evaluate<string>(status), "ready");
    assert.deepEqual(page.errors(), []);
  });
});

Deno.test("screenshot() writes a PNG of the viewport", async () => {
  const folder = await Deno.makeTempDir({ prefix: "gossamer-screenshot-" });
  try {
    await withBrowser(async (browser, base) => {
      const page = await browser.newPage({ width: 640, height: 480 });
      await page.goto(`${base}/clean.html`);
      await page.screenshot(`${folder}/clean.png`);
    });
    const png = await Deno.readFile(`${folder}/clean.png`);
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.ok(png.length > 2_000, `a ${png.length}-byte PNG is too small to hold the page`);
    // The IHDR chunk holds the image size: the viewport's, at a device scale factor of 1.
    const header = new DataView(png.buffer, png.byteOffset + 16, 8);
    assert.deepEqual([header.getUint32(0), header.getUint32(4)], [640, 480]);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("evaluate() and waitFor() fail with the page's reason instead of hanging", async () => {
  await withBrowser(async (browser, base) => {
    const page = await browser.newPage({ width: 800, height: 600 });
    await page.goto(`${base}/clean.html`);
    await assert.rejects(page.evaluate(`null.textContent`), /threw: TypeError: Cannot read/);
    await assert.rejects(
      page.evaluate(`Promise.reject(new Error("nope"))`),
      /threw: Error: nope/,
    );
    await assert.rejects(page.waitFor(`window.neverSet`, 300), /window\.neverSet was not true/);
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    listener.close(); // a port nobody listens on any more
    await assert.rejects(
      page.goto(`http://127.0.0.1:${listener.addr.port}/`),
      /cannot open .*ERR_CONNECTION_REFUSED/,
    );
  });
});

/** Runs `body` with environment variables replaced, restoring them afterwards. */
async function withEnv(vars: Record<string, string>, body: () => Promise<void>): Promise<void> {
  const saved = Object.keys(vars).map((name) => [name, Deno.env.get(name)] as const);
  for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
  try {
    await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
}

Deno.test("openBrowser() names the missing binary and how to install it", async () => {
  await withEnv({ CHROMIUM: "/nonexistent/chromium", PATH: "/nonexistent" }, async () => {
    await assert.rejects(openBrowser(), /No Chromium found.*sh scripts\/ensure_chromium\.sh/s);
  });
});

Deno.test("openBrowser() reports a browser that exits before listening", async () => {
  const fake = await Deno.makeTempFile({ prefix: "gossamer-fake-chromium-" });
  try {
    await Deno.writeTextFile(fake, "#!/bin/sh\necho 'no display, giving up' >&2\nexit 3\n");
    await Deno.chmod(fake, 0o755);
    await withEnv({ CHROMIUM: fake }, async () => {
      await assert.rejects(openBrowser(), /before listening.*no display, giving up/s);
    });
  } finally {
    await Deno.remove(fake);
  }
});
