import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { Clock, TimerHandle } from '@ballast/core';
import { gcraParams, MemoryRateLimitStore, type RateLimitDecision } from '@ballast/resilience';
import { hashApiKey, type Repository, type Tenant } from '../data/index.js';

/**
 * Who a request speaks for, whatever proved it: the tenant it acts in, the subject (an API key id, a token's
 * `sub`), what it may do (`scopes`) and how it authenticated (`via`).
 */
export interface Principal {
  readonly tenantId: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  /** `api-key` for the static tenant keys; other authenticators name themselves (e.g. `jwt`). */
  readonly via: string;
}

/** A request that proved who it is: its principal and the tenant (plan, status) it acts in. */
export interface Authenticated {
  readonly principal: Principal;
  readonly tenant: Tenant;
}

/**
 * One way of proving identity: given the bearer credential of a request, the principal it proves, or `undefined`
 * when the credential is not one this authenticator accepts (the next one is asked). The seam where a JWT
 * resource server plugs in next to API keys. Must not read the request body.
 *
 * @example
 * ```ts
 * const jwt: Authenticator = { name: 'jwt', authenticate: async (token) => verifyJwt(token) };
 * ```
 */
export interface Authenticator {
  readonly name: string;
  authenticate(credential: string, req: IncomingMessage): Promise<Authenticated | undefined>;
  /**
   * Who `credential` says it speaks for, read without verifying anything (a JWT's `iss` and `sub`), or `undefined`
   * when it says nothing. Used only by the failure budget: a source over its budget may still present a credential
   * never seen before (a token refreshed since) for a subject that authenticated recently, within a budget of that
   * subject's own. Must be cheap and must not throw.
   */
  claimedSubject?(credential: string): string | undefined;
}

/** Scopes an API key grants: everything a tenant may do on its own data. */
export const API_KEY_SCOPES: readonly string[] = [
  'catalog:read',
  'orders:read',
  'orders:write',
  'audit:read',
];

/**
 * Tenant API keys: the key's SHA-256 looked up in the store through `lookup` (a cache, so authentication keeps
 * working on the last known answer while the store is down). Keys are never stored or compared in clear.
 */
export function apiKeyAuthenticator(
  repo: Pick<Repository, 'findTenantByApiKeyHash'>,
  lookup: <T>(keyHash: string, load: () => Promise<T>) => Promise<T>,
): Authenticator {
  return {
    name: 'api-key',
    async authenticate(credential) {
      const hash = hashApiKey(credential);
      const tenant = await lookup(hash, () => repo.findTenantByApiKeyHash(hash));
      if (!tenant) return undefined;
      return {
        tenant,
        principal: {
          tenantId: tenant.id,
          subject: `key:${hash.slice(0, 12)}`,
          scopes: API_KEY_SCOPES,
          via: 'api-key',
        },
      };
    },
  };
}

/** The bearer token of an `Authorization` header, or `undefined` when there is none or it is malformed. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+([\x21-\x7e]{1,8192})\s*$/i.exec(header);
  return match?.[1];
}

/** Why a request was not authenticated: no credential, a wrong one, or too many wrong ones from its source. */
export type AuthFailure = 'missing' | 'unknown' | 'throttled';

/** What {@link RequestAuthentication.check} decided. */
export type AuthOutcome =
  | { readonly ok: true; readonly auth: Authenticated }
  | { readonly ok: false; readonly failure: AuthFailure; readonly retryAfterMs: number };

/** Options of {@link RequestAuthentication}. */
export interface RequestAuthenticationOptions {
  /** Asked in order; the first that accepts the credential wins. */
  readonly authenticators: readonly Authenticator[];
  readonly clock: Clock;
  /** Failed attempts one source address may make per minute before it is refused unread. @default 30 */
  readonly failuresPerMinute?: number;
  /** Source addresses (and unknown credentials) remembered, at most. @default 10000 */
  readonly maxEntries?: number;
  /** How long an unknown credential is answered 401 without asking the authenticators again. @default 60000 */
  readonly negativeTtlMs?: number;
  /**
   * The address failures are counted against. @default the socket's peer ({@link sourceOf} without trusted
   * proxies)
   */
  readonly source?: (req: IncomingMessage) => string;
  /**
   * Longest a check may hold a unit of its source's budget: a check still running after it (a lookup with no
   * deadline) is counted as a failed attempt and its unit freed, so a hung store cannot hold a source's budget for
   * good. @default 10000
   */
  readonly holdTimeoutMs?: number;
  /**
   * Errors of an authenticator that say nothing against the credential and are the service's own (a revocation
   * list or key set that could not be read): not counted against the source. Other errors (a credential store
   * away) are counted, or guessing would go unthrottled while it is. @default none
   */
  readonly uncounted?: (error: unknown) => boolean;
}

/** A check under way: the budget unit it holds (its source's, or the vouching subject's) and who pays a failure. */
interface Hold {
  readonly held: string | undefined;
  readonly charged: readonly string[];
  settled: boolean;
  timer: TimerHandle | undefined;
}

/** Most checks of one source waiting for those under way to be decided; more are refused as over budget. */
const MAX_WAITING = 256;

/**
 * Authentication as one step, run before a request holds any capacity and before its body is read: the bearer
 * credential is checked by the {@link Authenticator}s; failures are counted per source address (GCRA in memory,
 * bounded), and a source over its budget is refused without any lookup, unless its credential authenticated in
 * the last ten minutes or claims a subject that did (a token refreshed since), so tenants sharing an address with
 * an attacker keep working. A claimed subject is let through within a failure budget of its own: a forged token
 * naming a real subject costs one verification, and once that subject's budget is spent, its unseen credentials
 * from sources over their budget wait too. A credential found unknown is remembered for a while (bounded), so
 * repeating it costs a map lookup, not a database query. Only SHA-256 digests of credentials and subjects are
 * remembered.
 *
 * @example
 * ```ts
 * const auth = new RequestAuthentication({ authenticators: [apiKeyAuthenticator(repo, cache)], clock });
 * const outcome = await auth.check(req);
 * ```
 */
export class RequestAuthentication {
  readonly #authenticators: readonly Authenticator[];
  readonly #clock: Clock;
  readonly #failures: MemoryRateLimitStore;
  readonly #rule: ReturnType<typeof gcraParams>;
  readonly #unknown: BoundedExpiry;
  readonly #known: RecentlyAuthenticated;
  readonly #knownSubjects: RecentlyAuthenticated;
  readonly #source: (req: IncomingMessage) => string;
  /** Checks under way that may still fail, per source (and vouching subject): they count against its budget. */
  readonly #holding = new Map<string, number>();
  /** Checks waiting, per source, for one under way to be decided. */
  readonly #waiting = new Map<string, Set<() => void>>();
  readonly #holdTimeoutMs: number;
  readonly #uncounted: (error: unknown) => boolean;

  constructor(options: RequestAuthenticationOptions) {
    this.#authenticators = options.authenticators;
    this.#clock = options.clock;
    const maxEntries = options.maxEntries ?? 10_000;
    this.#failures = new MemoryRateLimitStore({ maxKeys: maxEntries });
    const limit = options.failuresPerMinute ?? 30;
    this.#rule = gcraParams({ limit, periodMs: 60_000 });
    this.#unknown = new BoundedExpiry(maxEntries, options.negativeTtlMs ?? 60_000);
    // Credentials, and the subjects they claimed, that authenticated in the last 10 minutes (digests only).
    this.#known = new RecentlyAuthenticated({ ttlMs: 600_000, max: maxEntries });
    this.#knownSubjects = new RecentlyAuthenticated({ ttlMs: 600_000, max: maxEntries });
    this.#source = options.source ?? ((req) => sourceOf(req));
    this.#holdTimeoutMs = options.holdTimeoutMs ?? 10_000;
    this.#uncounted = options.uncounted ?? (() => false);
  }

  /** Counts one failed attempt against `key` (a source address, or a shared key such as `admin:*`). */
  fail(key: string): RateLimitDecision {
    return this.#failures.consume(key, this.#rule, 1, this.#clock.now());
  }

  /**
   * Whether `key` may still fail once more; nothing is counted. `scale` multiplies the per-minute budget (a shared
   * key such as `admin:*` gets a larger one).
   */
  mayTry(key: string, scale = 1): { readonly allowed: boolean; readonly retryAfterMs: number } {
    const rule = scale === 1 ? this.#rule : this.#scaled(scale);
    const d = this.#failures.consume(key, rule, 0, this.#clock.now());
    if (d.remaining > (this.#holding.get(key) ?? 0)) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: Math.max(1, d.resetAfterMs - rule.toleranceMs + rule.emissionMs) };
  }

  /** Counts one failed attempt against `key` with a budget `scale` times the per-source one. */
  failScaled(key: string, scale: number): void {
    this.#failures.consume(key, this.#scaled(scale), 1, this.#clock.now());
  }

  readonly #scaledRules = new Map<number, ReturnType<typeof gcraParams>>();
  #scaled(scale: number) {
    let rule = this.#scaledRules.get(scale);
    if (!rule) {
      rule = gcraParams({ limit: this.#rule.limit * scale, periodMs: 60_000 });
      this.#scaledRules.set(scale, rule);
    }
    return rule;
  }

  /** Authenticates `req` by its `Authorization: Bearer` credential. Never reads the body; never throws for bad input. */
  async check(req: IncomingMessage): Promise<AuthOutcome> {
    const source = this.#source(req);
    const credential = bearerToken(req.headers.authorization);
    const digest = credential === undefined ? undefined : sha256(credential);
    const known = digest !== undefined && this.#known.has(digest, this.#clock.now());
    // A source over its failure budget is refused before any lookup, unless it sends a credential that
    // authenticated recently, or one claiming a subject that did, while that subject has budget left (tenants
    // behind one address as an attacker keep working; guesses are never known). A check under way counts against
    // the budget until it is decided: requests arriving together (pipelined on one connection) beyond what is
    // left wait for those under way, and go on if they succeeded, rather than all passing before the first fails.
    let vouching: string | undefined;
    let held: string | undefined;
    if (!known) {
      if ((await this.#admitted(source)) === 'go') {
        held = source;
      } else {
        const subject = credential === undefined ? undefined : this.#claimed(credential);
        const subjectKey = subject === undefined ? undefined : `subject:${sha256(subject)}`;
        if (
          subjectKey === undefined ||
          !this.#knownSubjects.has(subjectKey, this.#clock.now()) ||
          (await this.#admitted(subjectKey)) !== 'go'
        ) {
          return { ok: false, failure: 'throttled', retryAfterMs: this.mayTry(source).retryAfterMs };
        }
        vouching = held = subjectKey;
      }
    }
    // A failure is charged to the source, and to the subject that vouched for it.
    const hold = this.#hold(held, vouching === undefined ? [source] : [source, vouching]);
    if (credential === undefined || digest === undefined) return this.#failed(hold, 'missing');
    if (this.#unknown.has(digest, this.#clock.now())) return this.#failed(hold, 'unknown');
    try {
      for (const authenticator of this.#authenticators) {
        const auth = await authenticator.authenticate(credential, req);
        if (auth) {
          this.#remember(digest, credential, authenticator, auth);
          this.#settle(hold, false);
          return { ok: true, auth };
        }
      }
    } catch (error) {
      // The store failing answers nothing about the credential, but an attempt with one never seen was made:
      // counted, or guessing would go unthrottled while the store is down (each guess a call to it). Not counted:
      // a credential that authenticated recently (the outage is not its client's doing), and errors the service
      // declares its own (`uncounted`: a revocation list or key set that could not be read).
      this.#settle(hold, !known && !this.#uncounted(error));
      throw error;
    }
    this.#unknown.add(digest, this.#clock.now());
    return this.#failed(hold, 'unknown');
  }

  /**
   * Whether a check may go on against `key`'s budget, taking a unit of it when it may: `go` while what is left
   * exceeds the checks under way, `refuse` once nothing is left; in between it waits for a check under way to be
   * decided, and asks again. The decision and the unit are taken in one step (no await between them), so requests
   * parsed in one pass cannot all see the same budget.
   */
  async #admitted(key: string): Promise<'go' | 'refuse'> {
    for (;;) {
      const d = this.#failures.consume(key, this.#rule, 0, this.#clock.now());
      if (d.remaining <= 0) return 'refuse';
      const holding = this.#holding.get(key) ?? 0;
      if (d.remaining > holding) {
        this.#holding.set(key, holding + 1);
        return 'go';
      }
      let waiters = this.#waiting.get(key);
      if (waiters === undefined) this.#waiting.set(key, (waiters = new Set()));
      if (waiters.size >= MAX_WAITING) return 'refuse';
      await new Promise<void>((resolve) => waiters.add(resolve));
    }
  }

  /**
   * A check's hold on the unit `held` took (none for a credential that authenticated recently), and the keys a
   * failure is charged to; past the hold timeout it is decided as a failed attempt.
   */
  #hold(held: string | undefined, charged: readonly string[]): Hold {
    const hold: Hold = { held, charged, settled: false, timer: undefined };
    if (held !== undefined) {
      hold.timer = this.#clock.setTimeout(() => this.#settle(hold, true), this.#holdTimeoutMs, {
        ref: false,
      });
    }
    return hold;
  }

  /** Decides a check: a failed attempt is charged when `failed`; its unit is freed and the checks waiting ask again. */
  #settle(hold: Hold, failed: boolean): void {
    if (hold.settled) return;
    hold.settled = true;
    if (hold.timer !== undefined) this.#clock.clearTimeout(hold.timer);
    if (failed) for (const key of hold.charged) this.fail(key);
    const key = hold.held;
    if (key === undefined) return;
    const left = (this.#holding.get(key) ?? 1) - 1;
    if (left === 0) this.#holding.delete(key);
    else this.#holding.set(key, left);
    const waiters = this.#waiting.get(key);
    if (waiters !== undefined) {
      this.#waiting.delete(key);
      for (const wake of waiters) wake();
    }
  }

  /**
   * Remembers a credential that authenticated, in the group of the subject it claims (else of its principal), so
   * that credentials one client authenticates push out only that client's older ones (see {@link RecentlyAuthenticated}).
   */
  #remember(digest: string, credential: string, authenticator: Authenticator, auth: Authenticated): void {
    const at = this.#clock.now();
    const tenant = auth.principal.tenantId;
    const subject = claimedBy(authenticator, credential);
    const subjectKey = subject === undefined ? undefined : `subject:${sha256(subject)}`;
    if (subjectKey !== undefined) this.#knownSubjects.add(subjectKey, tenant, subjectKey, at);
    this.#known.add(digest, tenant, subjectKey ?? `principal:${auth.principal.subject}`, at);
  }

  /** The subject the first authenticator that reads one finds claimed by `credential` (nothing verified). */
  #claimed(credential: string): string | undefined {
    for (const authenticator of this.#authenticators) {
      const subject = claimedBy(authenticator, credential);
      if (subject !== undefined) return subject;
    }
    return undefined;
  }

  #failed(hold: Hold, failure: AuthFailure): AuthOutcome {
    this.#settle(hold, true);
    return { ok: false, failure, retryAfterMs: 0 };
  }
}

/** The subject `authenticator` reads claimed by `credential`; a claim that cannot be read vouches for nothing. */
function claimedBy(authenticator: Authenticator, credential: string): string | undefined {
  try {
    return authenticator.claimedSubject?.(credential);
  } catch {
    return undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/** Most `X-Forwarded-For` hops read, from the right: more proxies than this in front of a service is a misconfiguration. */
const MAX_FORWARDED_HOPS = 16;

/** `address` as a plain IP (an IPv4-mapped IPv6 address as IPv4, IPv6 in lower case), or undefined when it is none. */
function plainAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const family = isIP(plain);
  if (family === 0) return undefined;
  return family === 6 ? plain.toLowerCase() : plain;
}

/**
 * What the failure budget counts against for a client at `address`: the address itself for IPv4; for IPv6 its /64
 * network (`2001:db8:1:2::/64`), the block one host is usually given, so a client cannot spread its failures over
 * the 2^64 addresses it holds.
 */
export function budgetKey(address: string): string {
  if (isIP(address) !== 6) return address;
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const first = head === '' ? [] : head.split(':');
  const last = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? first
      : [...first, ...Array<string>(8 - first.length - last.length).fill('0'), ...last];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

function trusts(proxies: BlockList, address: string): boolean {
  return proxies.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The proxies in front of the service whose `X-Forwarded-For` it believes, from addresses and CIDR ranges
 * (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`). Throws a `TypeError` naming the first entry that is neither.
 *
 * @example
 * ```ts
 * const proxies = trustedProxies(['10.0.0.0/8', '127.0.0.1']);
 * sourceOf(req, proxies); // the client's address as the nearest trusted proxy saw it
 * ```
 */
export function trustedProxies(entries: readonly string[]): BlockList {
  const proxies = new BlockList();
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const plain = plainAddress(address);
    const family = plain === undefined ? 0 : isIP(plain);
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = family === 6 ? 128 : 32;
    if (
      plain === undefined ||
      extra !== undefined ||
      (bits !== undefined && !(/^\d{1,3}$/.test(bits) && prefix! <= max))
    ) {
      throw new TypeError(
        `trusted proxy ${JSON.stringify(entry)}: expected an IP address or a CIDR range (10.0.0.0/8)`,
      );
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) proxies.addAddress(plain, type);
    else proxies.addSubnet(plain, prefix, type);
  }
  return proxies;
}

/**
 * The source a request's failed authentications count against ({@link budgetKey}: an IPv4 address or an IPv6 /64)
 * of the address it came from: the socket's peer; when the peer is one of `proxies`, the address the nearest
 * trusted proxy saw, read from `X-Forwarded-For` right to left past the trusted hops (a client can put anything in
 * the header, but only to the left of what its first trusted proxy appends). An entry that is not an address ends
 * the walk at the last address read. Without `proxies`, forwarding headers are ignored.
 *
 * @example
 * ```ts
 * // peer 10.0.0.5 (a trusted load balancer), X-Forwarded-For: 6.6.6.6, 198.51.100.7
 * sourceOf(req, trustedProxies(['10.0.0.0/8'])); // '198.51.100.7'
 * ```
 */
export function sourceOf(req: IncomingMessage, proxies?: BlockList): string {
  const peer = plainAddress(req.socket.remoteAddress);
  if (peer === undefined) return req.socket.remoteAddress ?? 'unknown';
  return budgetKey(proxies === undefined ? peer : forwardedFor(req, peer, proxies));
}

/** The client's address past the trusted proxies (see {@link sourceOf}). */
function forwardedFor(req: IncomingMessage, peer: string, proxies: BlockList): string {
  if (!trusts(proxies, peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  if (typeof header !== 'string') return peer;
  const hops = header.split(',');
  let source = peer;
  for (let i = hops.length - 1; i >= 0 && i >= hops.length - MAX_FORWARDED_HOPS; i--) {
    const hop = plainAddress(hops[i]!.trim());
    if (hop === undefined) return source;
    source = hop;
    if (!trusts(proxies, hop)) return hop;
  }
  return source;
}

/** Options of {@link RecentlyAuthenticated}. */
interface RecentlyAuthenticatedOptions {
  readonly ttlMs: number;
  /** Entries of one group (one client: the subject a credential claims, or its principal) at most. @default 64 */
  readonly perGroup?: number;
  /** Entries of one tenant at most. @default 2000 */
  readonly perTenant?: number;
  /** Entries in all; past it, the oldest entry of the tenant holding the most goes. */
  readonly max: number;
}

/**
 * A bounded memory of what authenticated recently, partitioned so that what one client adds pushes out only its
 * own: each entry belongs to a group (a client) within a tenant, and a group past `perGroup` or a tenant past
 * `perTenant` loses its own oldest entry. Only past `max` in all does a tenant lose entries to others, the tenant
 * holding the most first. An entry expires `ttlMs` after it was last added.
 */
class RecentlyAuthenticated {
  readonly #ttlMs: number;
  readonly #perGroup: number;
  readonly #perTenant: number;
  readonly #max: number;
  readonly #entries = new Map<
    string,
    { readonly tenant: string; readonly group: string; readonly until: number }
  >();
  /** Each group's and each tenant's entries, oldest first (a Set keeps insertion order). */
  readonly #groups = new Map<string, Set<string>>();
  readonly #tenants = new Map<string, Set<string>>();

  constructor(options: RecentlyAuthenticatedOptions) {
    this.#ttlMs = options.ttlMs;
    this.#perGroup = options.perGroup ?? 64;
    this.#perTenant = options.perTenant ?? 2000;
    this.#max = options.max;
  }

  has(value: string, now: number): boolean {
    const entry = this.#entries.get(value);
    return entry !== undefined && entry.until > now;
  }

  add(value: string, tenant: string, group: string, now: number): void {
    this.#forget(value);
    const groupKey = `${tenant}\n${group}`;
    this.#entries.set(value, { tenant, group: groupKey, until: now + this.#ttlMs });
    const members = this.#member(this.#groups, groupKey, value);
    const tenantMembers = this.#member(this.#tenants, tenant, value);
    if (members.size > this.#perGroup) this.#forget(members.values().next().value!);
    if (tenantMembers.size > this.#perTenant) this.#forget(tenantMembers.values().next().value!);
    if (this.#entries.size > this.#max) {
      let largest: Set<string> | undefined;
      for (const set of this.#tenants.values())
        if (largest === undefined || set.size > largest.size) largest = set;
      if (largest !== undefined) this.#forget(largest.values().next().value!);
    }
  }

  #member(index: Map<string, Set<string>>, key: string, value: string): Set<string> {
    let set = index.get(key);
    if (set === undefined) index.set(key, (set = new Set()));
    set.add(value);
    return set;
  }

  #forget(value: string): void {
    const entry = this.#entries.get(value);
    if (entry === undefined) return;
    this.#entries.delete(value);
    for (const [index, key] of [
      [this.#groups, entry.group],
      [this.#tenants, entry.tenant],
    ] as const) {
      const set = index.get(key);
      set?.delete(value);
      if (set?.size === 0) index.delete(key);
    }
  }
}

/**
 * A bounded set of strings that expire: two generations of maps (as `MemoryRateLimitStore`), so a flood of
 * distinct values costs at most `max` entries and each check two map lookups.
 */
class BoundedExpiry {
  readonly #generation: number;
  readonly #ttlMs: number;
  #young = new Map<string, number>();
  #old = new Map<string, number>();

  constructor(max: number, ttlMs: number) {
    this.#generation = Math.max(1, Math.floor(max / 2));
    this.#ttlMs = ttlMs;
  }

  has(value: string, now: number): boolean {
    const until = this.#young.get(value) ?? this.#old.get(value);
    return until !== undefined && until > now;
  }

  add(value: string, now: number): void {
    if (this.#young.size >= this.#generation && !this.#young.has(value)) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(value, now + this.#ttlMs);
  }
}
