/**
 * Heartbeat as a pure state machine: the client feeds it traffic and clock readings and performs the actions
 * it returns, from one timer armed at `nextDue`.
 *
 * Two jobs:
 * - **Keep the server from closing us.** Servers close a legacy client after 60 s without inbound frames and
 *   never ping it (https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#ping-pong), so the client sends `ping` when it has sent nothing for `intervalMs`
 *   (default 10 s; any frame we send resets the server's clock, so a busy client sends no pings).
 * - **Notice a dead connection.** server-latest drops `ping` without a `pong`, so a ping proves nothing.
 *   Liveness comes from any inbound frame instead. After `idleTimeoutMs` (default 30 s) of inbound silence the
 *   client sends one **probe**: a cheap request every server answers (the client picks it; any reply, even an
 *   error, counts). If still nothing arrives within `probeTimeoutMs` (default 10 s), the connection is
 *   declared dead and the client reconnects. Worst-case detection: idle + probe = 40 s; a busy connection
 *   needs no probe.
 */

export interface HeartbeatOptions {
  /** Send `ping` when nothing was sent for this long, ms. Default 10 000; must stay well under 60 000. */
  intervalMs: number;
  /** Inbound silence after which a probe request is sent, ms. Default 30 000. */
  idleTimeoutMs: number;
  /** Silence after the probe after which the connection is dead, ms. Default 10 000. */
  probeTimeoutMs: number;
}

export const defaultHeartbeatOptions: HeartbeatOptions = { intervalMs: 10_000, idleTimeoutMs: 30_000, probeTimeoutMs: 10_000 };

export type HeartbeatAction = "ping" | "probe" | "dead";

export class Heartbeat {
  private lastInbound: number;
  private lastOutbound: number;
  private probeSentAt: number | undefined;
  private isDead = false;

  constructor(
    readonly options: HeartbeatOptions,
    now: number,
  ) {
    this.lastInbound = now;
    this.lastOutbound = now;
  }

  /** Any frame received. Cheap: one assignment, called on every frame. */
  inbound(now: number): void {
    this.lastInbound = now;
  }

  /** Any frame sent. */
  outbound(now: number): void {
    this.lastOutbound = now;
  }

  /** True once `tick` has returned "dead". */
  get dead(): boolean {
    return this.isDead;
  }

  /** Decide what to do now. The caller performs the actions, then re-arms its timer for `nextDue`. */
  tick(now: number): HeartbeatAction[] {
    if (this.isDead) return [];
    const actions: HeartbeatAction[] = [];
    if (this.probeSentAt !== undefined) {
      if (this.lastInbound >= this.probeSentAt) this.probeSentAt = undefined;
      else if (now - this.probeSentAt >= this.options.probeTimeoutMs) {
        this.isDead = true;
        return ["dead"];
      }
    }
    if (this.probeSentAt === undefined && now - this.lastInbound >= this.options.idleTimeoutMs) {
      this.probeSentAt = now;
      this.lastOutbound = now;
      actions.push("probe");
    }
    if (now - this.lastOutbound >= this.options.intervalMs) {
      this.lastOutbound = now;
      actions.push("ping");
    }
    return actions;
  }

  /** Absolute time of the next decision. */
  nextDue(): number {
    if (this.isDead) return Number.POSITIVE_INFINITY;
    const ping = this.lastOutbound + this.options.intervalMs;
    const liveness = this.probeSentAt !== undefined ? this.probeSentAt + this.options.probeTimeoutMs : this.lastInbound + this.options.idleTimeoutMs;
    return Math.min(ping, liveness);
  }
}
