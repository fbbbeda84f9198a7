import { messageOf } from "../../runtime/errors.ts";
/**
 * A small Chrome DevTools Protocol client over headless Chromium, so browser tests can open the
 * HTML reports and the live dashboard in a real browser, run scripts in them, take screenshots
 * and see every error the page hit, using nothing but Deno built-ins (no Puppeteer download).
 *
 * Every wait is bounded and fails with a message saying what it waited for, so a broken page or
 * a stuck browser fails a test instead of hanging it.
 *
 * @module
 */

/** How long one protocol command, a page load or the browser start may take by default. */
const TIMEOUT_MS = 30_000;

/** A protocol message: a command's reply (with `id`) or an event (with `method`). */
interface Message {
  readonly id?: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly message: string };
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly sessionId?: string;
}

/** The protocol's `Runtime.RemoteObject`, as far as messages need it. */
interface RemoteObject {
  readonly type?: string;
  readonly value?: unknown;
  readonly description?: string;
}

/** The protocol's `Runtime.ExceptionDetails`, as far as messages need it. */
interface ExceptionDetails {
  readonly text: string;
  readonly exception?: RemoteObject;
  readonly url?: string;
  readonly lineNumber?: number;
}

/** The protocol's `Runtime.StackTrace`, as far as messages need it. */
interface StackTrace {
  readonly callFrames: readonly { readonly url: string; readonly lineNumber: number }[];
}

/** Resolves or rejects `promise`, or rejects with `message` after `ms`; never leaks the timer. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (timed out after ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `path` is an executable file, so a stale `$CHROMIUM` is skipped rather than run. */
function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/**
 * The Chromium executable to run: `$CHROMIUM`, then `chromium`, then `chromium-browser` on
 * `PATH` (the same order as `scripts/ensure_chromium.sh`), or null when there is none, so tests
 * can explain how to get one instead of failing with a spawn error.
 */
export function findChromium(): string | null {
  const fromEnv = Deno.env.get("CHROMIUM");
  if (fromEnv !== undefined && fromEnv !== "" && isExecutable(fromEnv)) return fromEnv;
  const path = (Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir !== "");
  for (const name of ["chromium", "chromium-browser"]) {
    for (const dir of path) {
      if (isExecutable(`${dir}/${name}`)) return `${dir}/${name}`;
    }
  }
  return null;
}

/**
 * The flags for a throwaway headless browser. Beyond headless mode and an ephemeral debugging
 * port: containers run as root without user namespaces (`--no-sandbox`), often with a small
 * `/dev/shm` (`--disable-dev-shm-usage`) and no GPU (`--disable-gpu`); the rest stop first-run
 * dialogs, background network traffic and throttling that would make tests slow or flaky.
 */
function chromiumArgs(profile: string): string[] {
  return [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    `--user-data-dir=${profile}`,
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--mute-audio",
    "about:blank",
  ];
}

/**
 * Launches headless Chromium with a fresh temporary profile and connects to it over the
 * DevTools protocol. Close it with {@linkcode Browser.close}, which also removes the profile.
 *
 * @throws Error naming the missing binary and how to install it when no Chromium is found, or
 *   with the browser's own output when it fails to start.
 */
export async function openBrowser(): Promise<Browser> {
  const binary = findChromium();
  if (binary === null) {
    throw new Error(
      "No Chromium found for the browser tests: set CHROMIUM to an executable or put " +
        "'chromium' or 'chromium-browser' on PATH. Install it with: sh scripts/ensure_chromium.sh",
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "gossamer-chromium-" });
  const child = new Deno.Command(binary, {
    args: chromiumArgs(profile),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const output = new BrowserOutput(child.stderr);
  try {
    const exited = child.status.then((status) => {
      throw new Error(`${binary} exited with code ${status.code} before listening`);
    });
    exited.catch(() => {}); // only matters while racing the address below
    const url = await within(
      Promise.race([output.devToolsUrl, exited]),
      TIMEOUT_MS,
      `${binary} did not print its DevTools address`,
    );
    const socket = await connect(url);
    return new Browser(child, output, profile, socket);
  } catch (error) {
    await stopProcess(child);
    await output.close();
    await removeProfile(profile);
    throw new Error(`${messageOf(error)}\n--- ${binary} stderr ---\n${output.tail()}`, {
      cause: error,
    });
  }
}

/** Opens a WebSocket to `url`, waiting (bounded) until it is open. */
async function connect(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), {
      once: true,
    });
  });
  try {
    await within(opened, TIMEOUT_MS, `connecting to ${url}`);
  } catch (error) {
    await closeSocket(socket);
    throw error;
  }
  return socket;
}

/** Closes `socket` and waits (bounded) for its close event, so no resource outlives a test. */
async function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return;
  const closed = new Promise<void>((resolve) =>
    socket.addEventListener("close", () => resolve(), { once: true })
  );
  socket.close();
  await within(closed, 5_000, "closing the DevTools WebSocket").catch(() => {});
}

/** Ends `child` (SIGTERM, then SIGKILL if it lingers) and awaits its exit status. */
async function stopProcess(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* already exited */ }
  try {
    await within(child.status, 10_000, "waiting for Chromium to exit");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
    await within(child.status, 10_000, "waiting for a killed Chromium to exit");
  }
}

/** Removes the temporary profile, retrying briefly while Chromium's helpers finish writing. */
async function removeProfile(profile: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.remove(profile, { recursive: true });
      return;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      if (attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Reads Chromium's stderr for the whole life of the browser: it carries the DevTools address,
 * must keep being drained so the browser never blocks on a full pipe, and its last lines
 * explain a failed start.
 */
class BrowserOutput {
  /** The `ws://` address from the `DevTools listening on …` line. */
  readonly devToolsUrl: Promise<string>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  readonly #done: Promise<void>;
  #lines: string[] = [];

  constructor(stderr: ReadableStream<Uint8Array>) {
    this.#reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
    let found: (url: string) => void = () => {};
    let missing: (error: Error) => void = () => {};
    this.devToolsUrl = new Promise<string>((resolve, reject) => {
      found = resolve;
      missing = reject;
    });
    this.devToolsUrl.catch(() => {}); // a failed start is reported by openBrowser
    this.#done = this.#drain(found).then(
      () => missing(new Error("Chromium closed its stderr before listening")),
      (error) => missing(error instanceof Error ? error : new Error(String(error))),
    );
  }

  async #drain(found: (url: string) => void): Promise<void> {
    let pending = "";
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) return;
      pending += value;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(line);
        if (match?.[1] !== undefined) found(match[1]);
        this.#lines.push(line);
        if (this.#lines.length > 50) this.#lines.shift();
      }
    }
  }

  /** The last lines Chromium printed, for error messages. */
  tail(): string {
    return this.#lines.join("\n");
  }

  /**
   * Stops reading once the browser has exited: first briefly lets the pipe drain, so the last
   * lines of a failed start reach {@linkcode BrowserOutput.tail}, then cancels, because helper
   * processes that inherited the pipe may keep it open after the browser itself is gone.
   */
  async close(): Promise<void> {
    await within(this.#done, 1_000, "draining Chromium's stderr").catch(() => {});
    await this.#reader.cancel().catch(() => {});
    await within(this.#done, 5_000, "closing Chromium's stderr").catch(() => {});
  }
}

/** A command awaiting its reply. */
interface Pending {
  readonly method: string;
  readonly resolve: (result: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
}

/** A running headless Chromium, driven over one DevTools WebSocket. */
export class Browser {
  readonly #child: Deno.ChildProcess;
  readonly #output: BrowserOutput;
  readonly #profile: string;
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #pages = new Map<string, Page>();
  #nextId = 1;
  #closed = false;

  /** Use {@linkcode openBrowser}; this only wires up an already started browser. */
  constructor(
    child: Deno.ChildProcess,
    output: BrowserOutput,
    profile: string,
    socket: WebSocket,
  ) {
    this.#child = child;
    this.#output = output;
    this.#profile = profile;
    this.#socket = socket;
    socket.addEventListener("message", (event) => this.#receive(event.data));
    socket.addEventListener("close", () => this.#failPending("the DevTools connection closed"));
  }

  /**
   * Opens a new tab of the given viewport size. Its events come on its own flattened session,
   * with the page, runtime and log domains enabled so {@linkcode Page.errors} sees everything
   * from the first navigation on.
   */
  async newPage(viewport: { width: number; height: number }): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" }) as {
      targetId: string;
    };
    const { sessionId } = await this.send("Target.attachToTarget", {
      targetId,
      flatten: true,
    }) as { sessionId: string };
    const page = new Page(this, targetId, sessionId);
    this.#pages.set(sessionId, page);
    await Promise.all([
      this.send("Page.enable", {}, sessionId),
      this.send("Runtime.enable", {}, sessionId),
      this.send("Log.enable", {}, sessionId),
      this.send("Emulation.setDeviceMetricsOverride", {
        width: viewport.width,
        height: viewport.height,
        deviceScaleFactor: 1,
        mobile: false,
      }, sessionId),
    ]);
    return page;
  }

  /**
   * Sends one protocol command (to the browser, or to a page's session) and returns its result.
   * Exposed so tests can use protocol commands this client does not wrap.
   *
   * @throws Error with the protocol's message when the command fails, or on timeout.
   */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = TIMEOUT_MS,
  ): Promise<Record<string, unknown>> {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`${method}: the browser is closed`));
    }
    const id = this.#nextId++;
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
    });
    this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
    return within(reply, timeoutMs, `${method} got no reply`).finally(() =>
      this.#pending.delete(id)
    );
  }

  /** Forgets a closed page, so its late events are dropped. */
  forget(sessionId: string): void {
    this.#pages.delete(sessionId);
  }

  #receive(data: unknown): void {
    if (typeof data !== "string") return;
    const message = JSON.parse(data) as Message;
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      if (message.error !== undefined) {
        pending.reject(new Error(`${pending.method}: ${message.error.message}`));
      } else {
        pending.resolve(message.result ?? {});
      }
    } else if (message.method !== undefined && message.sessionId !== undefined) {
      this.#pages.get(message.sessionId)?.handle(message.method, message.params ?? {});
    }
  }

  #failPending(reason: string): void {
    for (const pending of this.#pending.values()) {
      pending.reject(new Error(`${pending.method}: ${reason}`));
    }
    this.#pending.clear();
    for (const page of this.#pages.values()) page.disconnected(reason);
  }

  /**
   * Shuts the browser down and releases everything it held: the WebSocket, the process (awaited,
   * killed if it lingers), its stderr reader and the temporary profile, so `Deno.test`'s
   * resource and op sanitizers pass. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeSocket(this.#socket);
    this.#failPending("the browser was closed");
    await stopProcess(this.#child);
    await this.#output.close();
    await removeProfile(this.#profile);
  }
}

/** Formats a protocol remote object as `console.log` would print it. */
function describe(value: RemoteObject): string {
  if (value.type === "string") return String(value.value);
  if (value.description !== undefined) return value.description;
  return JSON.stringify(value.value) ?? String(value.type);
}

/** ` (url:line)` for a source location, or nothing when the protocol gave none. */
function where(url: string | undefined, lineNumber: number | undefined): string {
  if (url === undefined || url === "") return "";
  return lineNumber === undefined ? ` (${url})` : ` (${url}:${lineNumber + 1})`;
}

/**
 * Whether `url` is a site's `/favicon.ico`. Chromium requests it on its own after the load
 * event, whether or not the page declares an icon, so its 404 says nothing about the page and
 * would make "no errors" assertions fail at random depending on timing.
 */
function isFavicon(url: string | undefined): boolean {
  return url !== undefined && URL.canParse(url) && new URL(url).pathname === "/favicon.ico";
}

/** One browser tab, attached over its own protocol session. */
export class Page {
  readonly #browser: Browser;
  readonly #targetId: string;
  readonly #sessionId: string;
  readonly #errors: string[] = [];
  readonly #loadWaiters = new Set<(error?: Error) => void>();

  /** Use {@linkcode Browser.newPage}. */
  constructor(browser: Browser, targetId: string, sessionId: string) {
    this.#browser = browser;
    this.#targetId = targetId;
    this.#sessionId = sessionId;
  }

  /**
   * Navigates to `url` and waits for its load event (images, scripts and styles loaded).
   *
   * @throws Error when the navigation itself fails (e.g. connection refused) or on timeout.
   */
  async goto(url: string, timeoutMs = TIMEOUT_MS): Promise<void> {
    let settle: (error?: Error) => void = () => {};
    const loaded = new Promise<void>((resolve, reject) => {
      settle = (error) => error === undefined ? resolve() : reject(error);
    });
    this.#loadWaiters.add(settle);
    try {
      const { errorText } = await this.#send("Page.navigate", { url }) as { errorText?: string };
      if (errorText !== undefined) throw new Error(`cannot open ${url}: ${errorText}`);
      await within(loaded, timeoutMs, `${url} did not finish loading`);
    } finally {
      this.#loadWaiters.delete(settle);
    }
  }

  /**
   * Evaluates `expression` in the page and returns its value (awaited if it is a promise),
   * copied out as JSON, so tests can inspect the DOM and the page's state.
   *
   * @throws Error with the page's exception text when the expression throws.
   */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.#send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    }) as { result: RemoteObject; exceptionDetails?: ExceptionDetails };
    if (exceptionDetails !== undefined) {
      const text = exceptionDetails.exception?.description ?? exceptionDetails.text;
      throw new Error(`evaluating ${JSON.stringify(expression)} threw: ${text}`);
    }
    return result.value as T;
  }

  /**
   * Polls `expression` until it is truthy, for state the page reaches asynchronously (a timer,
   * a WebSocket update). A throwing expression counts as not yet true.
   *
   * @throws Error naming the expression (and its last exception) after `timeoutMs`.
   */
  async waitFor(expression: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let lastError = "";
    for (;;) {
      try {
        if (await this.evaluate<unknown>(`Boolean(${expression})`)) return;
        lastError = "";
      } catch (error) {
        lastError = `; last error: ${messageOf(error)}`;
      }
      if (performance.now() >= deadline) {
        throw new Error(`${expression} was not true within ${timeoutMs} ms${lastError}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Writes a PNG screenshot of the viewport to `path`, for reviewing how a page renders. */
  async screenshot(path: string): Promise<void> {
    const { data } = await this.#send("Page.captureScreenshot", { format: "png" }) as {
      data: string;
    };
    await Deno.writeFile(path, Uint8Array.from(atob(data), (char) => char.charCodeAt(0)));
  }

  /**
   * Every problem the page reported since it was opened, as readable text with its source URL:
   * `console.error`/`console.assert` calls, uncaught exceptions and unhandled rejections, and
   * browser log errors such as failed resource loads (except the `/favicon.ico` the browser
   * fetches by itself). A test asserting this is empty catches errors that would otherwise
   * only show in a developer's console.
   */
  errors(): string[] {
    return [...this.#errors];
  }

  /** Closes the tab. */
  async close(): Promise<void> {
    await this.#browser.send("Target.closeTarget", { targetId: this.#targetId });
    this.#browser.forget(this.#sessionId);
  }

  /** Handles one event of this page's session; called by {@linkcode Browser}. */
  handle(method: string, params: Record<string, unknown>): void {
    switch (method) {
      case "Page.loadEventFired":
        for (const settle of this.#loadWaiters) settle();
        break;
      case "Runtime.consoleAPICalled": {
        const { type, args, stackTrace } = params as {
          type: string;
          args: RemoteObject[];
          stackTrace?: StackTrace;
        };
        if (type !== "error" && type !== "assert") break;
        const frame = stackTrace?.callFrames[0];
        const text = args.map(describe).join(" ");
        this.#errors.push(`console.${type}: ${text}${where(frame?.url, frame?.lineNumber)}`);
        break;
      }
      case "Runtime.exceptionThrown": {
        const { exceptionDetails: details } = params as { exceptionDetails: ExceptionDetails };
        const text = details.exception?.description ?? details.text;
        this.#errors.push(`uncaught: ${text}${where(details.url, details.lineNumber)}`);
        break;
      }
      case "Log.entryAdded": {
        const { entry } = params as {
          entry: { level: string; source: string; text: string; url?: string };
        };
        if (entry.level === "error" && !isFavicon(entry.url)) {
          this.#errors.push(`${entry.source}: ${entry.text}${where(entry.url, undefined)}`);
        }
        break;
      }
      case "Inspector.targetCrashed":
        this.#errors.push("the page crashed");
        for (const settle of this.#loadWaiters) settle(new Error("the page crashed"));
        break;
    }
  }

  /** Fails pending loads at once when the browser goes away; called by {@linkcode Browser}. */
  disconnected(reason: string): void {
    for (const settle of this.#loadWaiters) settle(new Error(reason));
  }

  #send(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.#browser.send(method, params, this.#sessionId);
  }
}
