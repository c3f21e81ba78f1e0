// Test harness for the interop suite: runs a real toncon binary and drives it with the official Phoenix
// JavaScript client, the way a browser app does. Nothing here knows how the server is written.

import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Presence, Socket } from "phoenix";
import WebSocket from "ws";

/** The web/ folder (this file lives in web/test/interop/). */
export const WEB_DIR = fileURLToPath(new URL("../../", import.meta.url));
const REPO_DIR = path.resolve(WEB_DIR, "..");

/** How long any single wait for the server may take before the test fails. */
export const WAIT_MS = 5000;
const STARTUP_MS = 20000;
const SHUTDOWN_MS = 15000;

/** Where the toncon binary is: $TONCON_BIN, else ../bin/toncon relative to web/. */
export function serverBinary() {
  const bin = process.env.TONCON_BIN
    ? path.resolve(WEB_DIR, process.env.TONCON_BIN)
    : path.resolve(WEB_DIR, "../bin/toncon");
  if (!existsSync(bin) || !statSync(bin).isFile()) {
    throw new Error(
      `the toncon server binary is missing at ${bin}.\n` +
        `Build it first:  cd ${REPO_DIR} && go build -o bin/toncon ./cmd/toncon\n` +
        `or point TONCON_BIN at a built binary. The interop tests need a real server and never skip.`,
    );
  }
  return bin;
}

/**
 * Starts `toncon serve` on a free loopback port with a fresh temporary data folder, and resolves once it logs
 * that it is serving. The result's stop() sends SIGTERM and resolves with the exit code and signal.
 */
export async function startServer() {
  const bin = serverBinary();
  const dataDir = await mkdtemp(path.join(tmpdir(), "toncon-interop-"));
  const child = spawn(bin, ["serve", "--addr", "127.0.0.1:0", "--tls=off", "--data", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env },
  });
  let stderr = "";
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (s) => (stdout += s));
  child.stderr.setEncoding("utf8");
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise((resolve) => child.once("error", resolve));

  const serving = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`toncon did not log "toncon is serving" within ${STARTUP_MS / 1000} s.\nstderr so far:\n${stderr}`));
    }, STARTUP_MS);
    child.stderr.on("data", (s) => {
      stderr += s;
      for (const line of stderr.split("\n")) {
        if (!line.includes('msg="toncon is serving"')) continue;
        const m = / url=(\S+)/.exec(line);
        if (!m) continue;
        clearTimeout(timer);
        resolve(m[1].replace(/^"|"$/g, ""));
        return;
      }
    });
    spawnError.then((err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${bin}: ${err.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`toncon exited before serving (code ${code}, signal ${signal}).\nstderr:\n${stderr}`));
    });
  });

  let url;
  try {
    url = await serving;
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  let stopped = null;
  return {
    url,
    socketUrl: url.replace(/^http/, "ws") + "/socket",
    dataDir,
    get stderr() {
      return stderr;
    },
    get stdout() {
      return stdout;
    },
    /** Sends SIGTERM and waits for the exit; resolves {code, signal, timedOut}. */
    stop() {
      if (stopped) return stopped;
      stopped = (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        let timer;
        const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(null), SHUTDOWN_MS)));
        const result = await Promise.race([exited, timeout]);
        clearTimeout(timer);
        if (result === null) {
          child.kill("SIGKILL");
          const { code, signal } = await exited;
          return { code, signal, timedOut: true };
        }
        return { ...result, timedOut: false };
      })();
      return stopped;
    },
    /** Kills the server if it still runs and removes its data folder. */
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a room through the HTTP API and checks the 201 answer. */
export async function createHub(server, name = "Interop") {
  const res = await fetch(`${server.url}/api/v1/hubs`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ hub: { name } }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /api/v1/hubs answered ${res.status}, want 201: ${text}`);
  const body = JSON.parse(text);
  for (const key of ["hub_id", "url", "creator_assignment_token"]) {
    if (typeof body[key] !== "string" || body[key] === "") {
      throw new Error(`POST /api/v1/hubs: ${key} missing or not a string in ${text}`);
    }
  }
  return body;
}

/** Rejects with a clear message if promise does not settle within ms. */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The join payload a Hubs client sends. */
export function joinPayload(displayName = "Ada") {
  return {
    profile: { displayName, avatarId: "basic" },
    context: { mobile: false, hmd: false, embed: false },
  };
}

/**
 * Records every event of interest that arrives on a channel, in order, so tests can await the next one or
 * assert that none arrived.
 */
export class Inbox {
  constructor(channel, events) {
    this.items = [];
    this.waiters = [];
    for (const event of events) {
      channel.on(event, (payload) => this.#deliver(event, payload));
    }
  }

  #deliver(event, payload) {
    const item = { event, payload };
    const i = this.waiters.findIndex((w) => w.event === event && w.match(payload));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w.resolve(payload);
      return;
    }
    this.items.push(item);
  }

  /** Resolves with the first not yet taken `event` whose payload passes match (default: the very next one). */
  next(event, match = () => true, ms = WAIT_MS, what = `a "${event}" message`) {
    const i = this.items.findIndex((it) => it.event === event && match(it.payload));
    if (i >= 0) return Promise.resolve(this.items.splice(i, 1)[0].payload);
    let waiter;
    const p = new Promise((resolve) => {
      waiter = { event, match, resolve };
      this.waiters.push(waiter);
    });
    return within(p, ms, what).catch((err) => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      const seen = this.items.map((it) => `${it.event} ${JSON.stringify(it.payload)}`).join("\n  ");
      err.message += seen ? `; received meanwhile:\n  ${seen}` : "; nothing else arrived";
      throw err;
    });
  }

  /** Everything received and not taken, optionally only one event. */
  pending(event) {
    return this.items.filter((it) => !event || it.event === event);
  }
}

/**
 * Phoenix's Presence on a channel, with promises: until(cond) resolves once cond(list) holds after a sync,
 * and every leave callback is recorded.
 */
export class PresenceWatch {
  constructor(channel) {
    this.presence = new Presence(channel);
    this.leaves = [];
    this.joins = [];
    this.checks = new Set();
    this.presence.onJoin((id, current, joined) => this.joins.push({ id, current, joined }));
    this.presence.onLeave((id, current, left) => this.leaves.push({ id, current, left }));
    this.presence.onSync(() => {
      for (const check of [...this.checks]) check();
    });
  }

  /** The synced state as {session_id: metas[]}, built through Presence.list as an app does. */
  list() {
    const out = {};
    this.presence.list((id, { metas }) => {
      out[id] = metas;
    });
    return out;
  }

  /** Resolves with list() as soon as cond(list()) is true after a sync (or already now). */
  until(cond, what, ms = WAIT_MS) {
    let check;
    const p = new Promise((resolve) => {
      check = () => {
        const l = this.list();
        if (cond(l)) {
          this.checks.delete(check);
          resolve(l);
        }
      };
      this.checks.add(check);
      check();
    });
    return within(p, ms, what).catch((err) => {
      this.checks.delete(check);
      err.message += `; presence list is ${JSON.stringify(this.list())}`;
      throw err;
    });
  }
}

/**
 * One browser-like client: a phoenix Socket over the ws package. Use connect(), then join() for each channel;
 * close() disconnects and stops phoenix's reconnect and rejoin timers.
 */
export class Client {
  constructor(server, { params = {}, name = "client" } = {}) {
    this.name = name;
    this.socket = new Socket(server.socketUrl, {
      transport: WebSocket,
      params,
      timeout: WAIT_MS,
      // Keep phoenix's own retries from outliving a failed test.
      reconnectAfterMs: () => 200,
      rejoinAfterMs: () => 500,
    });
    this.channels = [];
    this.unanswered = [];
  }

  connect() {
    const p = new Promise((resolve, reject) => {
      const refs = [];
      refs.push(
        this.socket.onOpen(() => {
          this.socket.off(refs);
          resolve();
        }),
      );
      refs.push(
        this.socket.onError((err) => {
          this.socket.off(refs);
          reject(new Error(`${this.name}: socket error while connecting: ${err?.message ?? err?.type ?? err}`));
        }),
      );
    });
    this.socket.connect();
    return within(p, WAIT_MS, `${this.name}'s socket to open`);
  }

  /**
   * Makes the channel (so callers can attach Presence and inboxes before joining) and returns it with a
   * join() that resolves {status, response}: "ok" or "error" both resolve, a timeout rejects.
   */
  channel(topic, payload) {
    const channel = this.socket.channel(topic, payload);
    this.channels.push(channel);
    const join = () =>
      within(
        new Promise((resolve) => {
          channel
            .join()
            .receive("ok", (response) => resolve({ status: "ok", response }))
            .receive("error", (response) => resolve({ status: "error", response }));
        }),
        WAIT_MS,
        `${this.name}'s join reply on ${topic}`,
      );
    return { channel, join };
  }

  /**
   * Pushes an event that gets no reply (naf, nafr), as the Hubs client does. Its reply timer is stopped on
   * close(), so the test process does not wait for it.
   */
  send(channel, event, payload) {
    this.unanswered.push(channel.push(event, payload));
  }

  close() {
    return new Promise((resolve) => {
      for (const p of this.unanswered) p.cancelTimeout();
      this.unanswered = [];
      for (const ch of this.channels) ch.rejoinTimer?.reset();
      this.socket.disconnect(() => resolve());
    });
  }
}

/** Pushes event on channel and resolves {status, response} with the reply ("ok", "error" or "timeout"). */
export function push(channel, event, payload = {}, ms = WAIT_MS) {
  return new Promise((resolve) => {
    channel
      .push(event, payload, ms)
      .receive("ok", (response) => resolve({ status: "ok", response }))
      .receive("error", (response) => resolve({ status: "error", response }))
      .receive("timeout", () => resolve({ status: "timeout", response: undefined }));
  });
}
