import { isIP } from 'node:net';
import {
  authenticationFailed,
  authorizationPermissionMismatch,
  authorizationProtocolMismatch,
  authorizationResourceTypeMismatch,
  authorizationServiceMismatch,
  authorizationSourceIpMismatch,
} from '../errors.js';
import type { OperationSpec } from '../operations.js';
import type { Query } from '../query.js';
import { hmacSha256, signaturesEqual, type NamedKey } from './shared-key.js';

/**
 * Shared access signatures signed with an account key: account SAS (`ss`/`srt`) and service SAS (`sr`), in
 * the string-to-sign layouts of every service version the SDKs still emit (2015-04-05, 2018-11-09, 2020-12-06+).
 * User-delegation SAS (signed with a key from Get User Delegation Key) and stored access policies (`si`) are
 * refused: Keyless implements neither.
 */
export interface SasParams {
  kind: 'account' | 'service';
  sv: string;
  sig: string;
  sp: string;
  st: string | undefined;
  se: string | undefined;
  sip: string | undefined;
  spr: string | undefined;
  ss: string | undefined;
  srt: string | undefined;
  sr: string | undefined;
  si: string | undefined;
  ses: string | undefined;
  snapshot: string | undefined;
  /** Response header overrides a service SAS may carry. */
  rscc: string | undefined;
  rscd: string | undefined;
  rsce: string | undefined;
  rscl: string | undefined;
  rsct: string | undefined;
  delegation: boolean;
}

/** The SAS in a query string, or undefined when there is none (no `sig`). */
export function parseSas(q: Query): SasParams | undefined {
  const sig = q.get('sig');
  if (sig === undefined) return undefined;
  const sv = q.get('sv');
  const sp = q.get('sp');
  if (!sv) throw authenticationFailed('sv is mandatory. Cannot be empty');
  const ss = q.get('ss');
  const srt = q.get('srt');
  const sr = q.get('sr');
  const kind = ss !== undefined || srt !== undefined ? 'account' : 'service';
  if (kind === 'account' && (!ss || !srt)) throw authenticationFailed(!ss ? 'ss is mandatory. Cannot be empty' : 'srt is mandatory. Cannot be empty');
  if (kind === 'service' && !sr) throw authenticationFailed('sr is mandatory. Cannot be empty');
  const si = q.get('si');
  if (!sp && !si) throw authenticationFailed('sp is mandatory. Cannot be empty');
  if (!q.get('se') && !si) throw authenticationFailed('se is mandatory. Cannot be empty');
  return {
    kind,
    sv,
    // A `+` sent unencoded reaches us as-is; a space means some layer form-decoded it.
    sig: sig.replace(/ /g, '+'),
    sp: sp ?? '',
    st: q.get('st'),
    se: q.get('se'),
    sip: q.get('sip'),
    spr: q.get('spr'),
    ss,
    srt,
    sr,
    si,
    ses: q.get('ses'),
    snapshot: q.get('snapshot'),
    rscc: q.get('rscc'),
    rscd: q.get('rscd'),
    rsce: q.get('rsce'),
    rscl: q.get('rscl'),
    rsct: q.get('rsct'),
    delegation: ['skoid', 'sktid', 'skt', 'ske', 'sks', 'skv'].some((k) => q.has(k)),
  };
}

const s = (v: string | undefined): string => v ?? '';

export function accountSasStringToSign(p: SasParams, account: string): string {
  const fields = [account, p.sp, s(p.ss), s(p.srt), s(p.st), s(p.se), s(p.sip), s(p.spr), p.sv];
  if (p.sv >= '2020-12-06') fields.push(s(p.ses));
  return [...fields, ''].join('\n');
}

/** `/blob/{account}/{container}[/{blob}]`: a container SAS signs the container only, whatever URL it is used on. */
export function canonicalSasResource(account: string, container: string, blob: string | undefined, sr: string): string {
  const withBlob = sr === 'b' || sr === 'bs' || sr === 'bv';
  return `/blob/${account}/${container}${withBlob && blob !== undefined ? `/${blob}` : ''}`;
}

export function serviceSasStringToSign(p: SasParams, account: string, container: string, blob: string | undefined): string {
  const head = [p.sp, s(p.st), s(p.se), canonicalSasResource(account, container, blob, s(p.sr)), s(p.si), s(p.sip), s(p.spr), p.sv];
  const overrides = [s(p.rscc), s(p.rscd), s(p.rsce), s(p.rscl), s(p.rsct)];
  if (p.sv >= '2020-12-06') return [...head, s(p.sr), s(p.snapshot), s(p.ses), ...overrides].join('\n');
  if (p.sv >= '2018-11-09') return [...head, s(p.sr), s(p.snapshot), ...overrides].join('\n');
  return [...head, ...overrides].join('\n');
}

export interface SasTarget {
  account: string;
  container: string | undefined;
  blob: string | undefined;
}

export interface SasContext {
  nowMs: number;
  /** The caller's address as the socket reports it. */
  remoteAddress: string | undefined;
  protocol: 'https' | 'http';
}

/**
 * Validates the signature, then the SAS's own constraints, in the order Azure reports them: signature, time
 * window, source IP, protocol. Returns the key that signed it.
 */
export function verifySas(p: SasParams, target: SasTarget, keys: NamedKey[], ctx: SasContext): { keyName: string } {
  if (p.delegation) throw authenticationFailed('User delegation SAS is not supported by this server.');
  if (p.sv < '2015-04-05') throw authenticationFailed(`The signed version '${p.sv}' is not supported.`);
  if (p.si !== undefined) throw authenticationFailed(`Stored access policy '${p.si}' could not be found.`);
  let text: string;
  if (p.kind === 'account') {
    text = accountSasStringToSign(p, target.account);
  } else {
    if (target.container === undefined) throw authorizationResourceTypeMismatch();
    if (!['c', 'b', 'bs', 'bv'].includes(s(p.sr))) throw authenticationFailed(`Invalid signed resource '${s(p.sr)}'.`);
    if (s(p.sr) !== 'c' && target.blob === undefined) throw authorizationResourceTypeMismatch();
    text = serviceSasStringToSign(p, target.account, target.container, target.blob);
  }
  const key = keys.find((k) => signaturesEqual(hmacSha256(k.value, text), p.sig));
  if (!key) throw authenticationFailed(`Signature did not match. String to sign used was ${text}`);

  checkTime(p, ctx.nowMs);
  if (p.sip !== undefined && !ipInRange(ctx.remoteAddress, p.sip)) throw authorizationSourceIpMismatch(normalizeIp(ctx.remoteAddress) ?? 'unknown');
  if (p.spr !== undefined) {
    const allowed = p.spr.split(',').map((x) => x.trim().toLowerCase());
    if (!allowed.includes(ctx.protocol)) throw authorizationProtocolMismatch();
  }
  return { keyName: key.keyName };
}

function parseSasTime(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  // ISO 8601 UTC: date-only, minutes, seconds or fractions. Anything else is not a time Azure accepts either.
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?Z)?$/.test(v)) throw authenticationFailed(`${name} is invalid: '${v}'.`);
  const t = Date.parse(v.replace(/(\.\d{3})\d+Z$/, '$1Z'));
  if (Number.isNaN(t)) throw authenticationFailed(`${name} is invalid: '${v}'.`);
  return t;
}

const gmt = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toUTCString());

function checkTime(p: SasParams, now: number): void {
  const start = parseSasTime(p.st, 'st');
  const expiry = parseSasTime(p.se, 'se');
  if (start !== undefined && expiry !== undefined && expiry <= start) {
    throw authenticationFailed(`Signed expiry time [${gmt(expiry)}] has to be after signed start time [${gmt(start)}]`);
  }
  if ((expiry !== undefined && now > expiry) || (start !== undefined && now < start)) {
    throw authenticationFailed(`Signature not valid in the specified time frame: Start [${gmt(start)}] - Expiry [${gmt(expiry)}] - Current [${gmt(now)}]`);
  }
}

function normalizeIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function ipv4ToNumber(ip: string): number | undefined {
  if (isIP(ip) !== 4) return undefined;
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** `sip` is one IPv4 address or an inclusive `from-to` range (Azure supports no other form). */
export function ipInRange(remote: string | undefined, sip: string): boolean {
  const ip = normalizeIp(remote);
  if (ip === undefined) return false;
  const [from, to] = sip.split('-').map((x) => x.trim());
  if (from === undefined) return false;
  const n = ipv4ToNumber(ip);
  const lo = ipv4ToNumber(from);
  const hi = to === undefined ? lo : ipv4ToNumber(to);
  if (n === undefined || lo === undefined || hi === undefined) return ip === from && to === undefined;
  return n >= lo && n <= hi;
}

/**
 * Whether a verified SAS covers this operation: the service (`ss` must include `b`), the resource type
 * (`srt`), then the permission letters. `exists` tells a create-only permission (`c`) from an overwrite.
 */
export function checkSasPermission(p: SasParams, op: OperationSpec, exists: boolean): void {
  let anyOf: string;
  if (p.kind === 'account') {
    if (!s(p.ss).includes('b')) throw authorizationServiceMismatch();
    if (!s(p.srt).includes(op.accountSas.resourceType)) throw authorizationResourceTypeMismatch();
    anyOf = op.accountSas.anyOf;
  } else {
    if (!op.serviceSas) throw authorizationResourceTypeMismatch();
    // A blob SAS never reaches container operations: its signature names a blob.
    anyOf = op.serviceSas.anyOf;
  }
  const granted = [...anyOf].filter((letter) => p.sp.includes(letter));
  if (granted.length === 0) throw authorizationPermissionMismatch(`SAS permissions '${p.sp}' lack any of '${anyOf}' for ${op.name}`);
  if (op.createOnly && exists && !p.sp.includes('w')) throw authorizationPermissionMismatch(`SAS permission 'c' creates only; ${op.name} would overwrite`);
}
