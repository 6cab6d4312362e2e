/**
 * Fair shares of a server-wide cap. Every global limit of the server (connections, half-received bytes,
 * exchanges, queues, queued messages, sign-in slots) is also divided: one client address may hold at most its
 * per-address share and one user at most its per-user share, so no single address or account can take all of
 * a resource and leave the others a refusal. A `Tally` counts the units in use in total, by address and by user.
 *
 * Loopback gets no special trust: every local client shares 127.0.0.1, so the per-address shares are a large
 * fraction of the global caps (options.ts: half by default, a quarter per user), large enough for a test suite,
 * the fuzzer and a try-it page on one machine.
 */

/** A global cap and its shares. */
export interface ShareLimits {
  /** The option that sets the global cap (named in refusals), e.g. "limits.maxExchanges". */
  readonly option: string;
  readonly global: number;
  readonly perAddress: number;
  /** Per user; Infinity when the resource has no user (connections before signin). */
  readonly perUser: number;
}

export class Tally {
  private totalUnits = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly byUser = new Map<string, number>();

  constructor(
    /** What is counted, as refusals name it ("exchanges", "queued messages"). */
    readonly what: string,
    public limits: ShareLimits,
  ) {}

  get total(): number {
    return this.totalUnits;
  }

  ofAddress(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  ofUser(user: string): number {
    return this.byUser.get(user) ?? 0;
  }

  /** Why `units` more for (address, user) would go over the cap or a share; undefined when they fit. */
  refusal(address: string | undefined, user: string | undefined, units = 1): string | undefined {
    const { option, global, perAddress, perUser } = this.limits;
    if (this.totalUnits + units > global) return `Too many ${this.what}: ${this.totalUnits} on this server (${option} ${global})`;
    if (address !== undefined && this.ofAddress(address) + units > perAddress) {
      return `Too many ${this.what} from ${address}: ${this.ofAddress(address)} (${option}PerAddress ${perAddress})`;
    }
    if (user !== undefined && this.ofUser(user) + units > perUser) return `Too many ${this.what} for user ${user}: ${this.ofUser(user)} (${option}PerUser ${perUser})`;
    return undefined;
  }

  add(address: string | undefined, user: string | undefined, units = 1): void {
    this.totalUnits += units;
    if (address !== undefined) bump(this.byAddress, address, units);
    if (user !== undefined) bump(this.byUser, user, units);
  }

  remove(address: string | undefined, user: string | undefined, units = 1): void {
    this.add(address, user, -units);
  }

  /** Forget every count (a recount follows). */
  clear(): void {
    this.totalUnits = 0;
    this.byAddress.clear();
    this.byUser.clear();
  }
}

function bump(map: Map<string, number>, key: string, units: number): void {
  const next = (map.get(key) ?? 0) + units;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

/** The address part of a `host:port` remote (IPv6 hosts contain colons too). */
export function addressOf(remote: string): string {
  const at = remote.lastIndexOf(":");
  return at > 0 ? remote.slice(0, at) : remote;
}
