// A real packgraph server for the browser tests: fresh SQLite database, migrations, demo data, on a
// free port; stop/start/restart keep the same database (for the reconnect test).
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, "../..");
const PACKGRAPH = join(REPO, ".venv/bin/packgraph");

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export class PackgraphServer {
  private process: ChildProcess | null = null;
  private log: string[] = [];

  private constructor(
    readonly port: number,
    readonly databaseUrl: string,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  env(port = this.port): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PACKGRAPH_DATABASE_URL: this.databaseUrl,
      PACKGRAPH_PORT: String(port),
      PACKGRAPH_HOST: "127.0.0.1",
      PACKGRAPH_ALLOWED_ORIGINS: `http://127.0.0.1:${port},http://localhost:${port}`,
      PACKGRAPH_FRONTEND_DIST: join(REPO, "frontend/dist"),
      PACKGRAPH_LOG_LEVEL: "warning",
    };
  }

  /** Migrates and seeds a fresh database in a temporary directory. */
  static async create(): Promise<PackgraphServer> {
    const dir = mkdtempSync(join(tmpdir(), "packgraph-e2e-"));
    const server = new PackgraphServer(await freePort(), `sqlite://${join(dir, "e2e.sqlite3")}`, dir);
    await run(PACKGRAPH, ["migrate"], { env: server.env(), cwd: REPO });
    await run(PACKGRAPH, ["seed-demo"], { env: server.env(), cwd: REPO });
    return server;
  }

  async start(): Promise<void> {
    this.process = spawn(PACKGRAPH, ["serve"], {
      env: this.env(),
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      this.log.push(chunk.toString());
      if (this.log.length > 200) this.log.shift();
    };
    this.process.stdout?.on("data", keep);
    this.process.stderr?.on("data", keep);
    await waitForHealth(this.url, this.process, () => this.log.join(""));
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Runs `fn` against a second server on another port sharing the database, then stops it. */
  async withSidecar<T>(fn: (url: string) => Promise<T>): Promise<T> {
    const port = await freePort();
    const child = spawn(PACKGRAPH, ["serve"], { env: this.env(port), cwd: REPO, stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForHealth(url, child, () => "");
      return await fn(url);
    } finally {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitForHealth(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`packgraph serve exited (${child.exitCode}):\n${log()}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  throw new Error(`packgraph serve did not answer /healthz within 30 s:\n${log()}`);
}

/** A GraphQL request over HTTP, for setting up or changing data outside the browser. */
export async function graphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data as T;
}

export async function loginToken(url: string, email: string): Promise<string> {
  const data = await graphql<{ login: { token: string | null; userErrors: { message: string }[] } }>(
    url,
    "mutation($input: LoginInput!) { login(input: $input) { token userErrors { message } } }",
    { input: { email, password: "demo" } },
  );
  if (!data.login.token) throw new Error(data.login.userErrors.map((e) => e.message).join("; "));
  return data.login.token;
}
