/**
 * An npm registry on loopback for the packaging test: verdaccio (a dev dependency) started on 127.0.0.1 with a
 * temporary storage and config. Our two packages (`openflow-spec`, `openflow-spec-tools`) exist only here: their
 * names have no uplink, so a published tarball is the only source and a missing one is a 404, as it would be on
 * npm. Every other name is proxied to the npm registry this machine is configured with (`npm config get registry`),
 * so the tools' third-party dependencies resolve as they will for users. A throwaway user is created to publish.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./fixtures/generator/helpers.js";
import { freePort } from "./ports.js";

const run = promisify(execFile);

export interface LoopbackRegistry {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** An npmrc (use as `npm_config_userconfig`) pointing at the registry, with the publisher's token. */
  readonly npmrc: string;
  /** Environment for npm commands that must use only this registry. */
  readonly env: NodeJS.ProcessEnv;
  publish(tarball: string): Promise<void>;
  stop(): Promise<void>;
}


export async function startLoopbackRegistry(): Promise<LoopbackRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "openflow-spec-registry-"));
  const upstream = (await run("npm", ["config", "get", "registry"], { timeout: 30_000 })).stdout.trim() || "https://registry.npmjs.org/";
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = join(dir, "config.yaml");
  await writeFile(join(dir, "htpasswd"), "");
  await writeFile(
    config,
    [
      `storage: ${JSON.stringify(join(dir, "storage"))}`,
      "auth:",
      "  htpasswd:",
      `    file: ${JSON.stringify(join(dir, "htpasswd"))}`,
      "    max_users: 1",
      "uplinks:",
      "  npmjs:",
      `    url: ${JSON.stringify(upstream)}`,
      "    timeout: 60s",
      "packages:",
      // Ours: published here or nowhere (no proxy line).
      "  'openflow-spec':",
      "    access: $all",
      "    publish: $authenticated",
      "  'openflow-spec-tools':",
      "    access: $all",
      "    publish: $authenticated",
      "  '**':",
      "    access: $all",
      "    publish: $authenticated",
      "    proxy: npmjs",
      "web:",
      "  enable: false",
      "log: { type: stdout, format: pretty, level: warn }",
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, "node_modules", "verdaccio", "bin", "verdaccio"), "--config", config, "--listen", `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Ready when it answers its ping (bounded: 60 tries, 250 ms apart).
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}: ${log}`);
      const ok = await fetch(`${url}-/ping`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i >= 60) throw new Error(`verdaccio did not answer on ${url} within 15 s: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The publisher: verdaccio's htpasswd plugin creates the user on this request and returns its token.
    const name = "publisher";
    const res = await fetch(`${url}-/user/org.couchdb.user:${name}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, password: "loopback-only-password", type: "user", roles: [], date: new Date().toISOString() }),
    });
    const token = ((await res.json()) as { token?: string }).token;
    if (!res.ok || token === undefined) throw new Error(`verdaccio refused to create the publisher (${res.status}): ${log}`);
    const npmrc = join(dir, "npmrc");
    await writeFile(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\naudit=false\nfund=false\nupdate-notifier=false\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_userconfig: npmrc, npm_config_registry: url };
    // npm's cache is shared with the machine: tarballs are found by integrity, so only the metadata goes through
    // the registry; a separate cache would download the tools' dependencies again on every run.
    for (const key of Object.keys(env)) if (/^npm_config_(prefer_offline|offline)$/i.test(key)) delete env[key];
    return {
      url,
      npmrc,
      env,
      async publish(tarball: string): Promise<void> {
        await run("npm", ["publish", tarball, "--registry", url, "--access", "public", "--provenance=false"], { env, timeout: 120_000 });
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
