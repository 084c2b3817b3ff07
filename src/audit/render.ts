/**
 * Human forms of audit events and access reviews (what `keyless logs` and `keyless access review` print).
 * Pure: the CLI gets the JSON from the ops API and renders it here.
 */
import type { AccessReview } from './access-review.js';
import type { AuditEvent } from './types.js';

// eslint-disable-next-line no-control-regex -- neutralizing control characters is the point
const clean = (s: unknown): string => String(s).replace(/[\u0000-\u001f\u007f]/g, '?');
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? clean(v) : undefined);

/** One line per event: time, category, result, then what happened, where and who. */
export function renderEventLine(e: AuditEvent): string {
  const d = e.details;
  const time = new Date(e.at).toISOString();
  const head = `${time}  ${e.category.padEnd(8)} ${e.result.padEnd(9)}`;
  const who = [e.principalId ? `oid=${e.principalId}` : undefined, e.appId ? `app=${e.appId}` : undefined].filter(Boolean).join(' ');
  if (e.category === 'signin') {
    const parts = [head, clean(e.operation), str(d['kind']), who, str(d['resource']) ? `resource=${str(d['resource'])}` : undefined, e.scope ? `from=${clean(e.scope)}` : undefined, d['cached'] === true ? '(cached)' : undefined];
    const line = parts.filter(Boolean).join(' ');
    return str(d['failureReason']) ? `${line} — ${str(d['failureReason'])}` : line;
  }
  const status = e.httpStatus !== undefined ? String(e.httpStatus) : '-';
  const parts =
    e.category === 'activity'
      ? [head, status, str(d['method']), clean(e.operation), clean(e.scope ?? ''), `caller=${str(d['caller']) ?? e.principalId ?? '?'}`, e.correlationId ? `correlation=${e.correlationId}` : undefined]
      : [head, status, str(d['surface']), clean(e.operation), clean(e.scope ?? ''), who || undefined, str(d['via']) ? `via=${str(d['via'])}` : undefined, e.count > 1 ? `×${e.count}` : undefined];
  const line = parts.filter(Boolean).join(' ');
  const error = d['error'] as { code?: string; message?: string } | undefined;
  const why =
    e.result === 'denied'
      ? str(d['summary'])
      : error
        ? `${clean(error.code ?? '')}: ${clean(error.message ?? '')}`
        : d['auditOnly'] === true
          ? `AUDIT ONLY, would be denied: ${str(d['summary']) ?? '?'}`
          : undefined;
  return why ? `${line} — ${why}` : line;
}

/** The review as a short report per identity. */
export function renderReview(r: AccessReview): string {
  const out: string[] = [`Access review ${r.since} .. ${r.until}`, ''];
  for (const i of r.identities) {
    out.push(`${clean(i.displayName)} (${i.kind}) principal ${i.principalId}, client ${i.appId}`);
    if (i.grants.length === 0) out.push('  granted: nothing');
    for (const g of i.grants) {
      const what = g.kind === 'roleAssignment' ? `${clean(g.roleName ?? '')} at ${clean(g.scope)}` : `access policy on ${clean(g.scope)}: ${clean(JSON.stringify(g.permissions))}`;
      out.push(`  granted: ${what}${g.used ? `  — used: ${g.usedActions.map(clean).join(', ')}` : '  — UNUSED'}`);
    }
    if (i.used.length === 0) out.push('  used: nothing in the window');
    for (const u of i.used) out.push(`  used:    ${clean(u.action)}${u.dataAction ? ' (data)' : ''} ×${u.count} at ${u.scopes.map(clean).join(', ')}${u.via === 'accessPolicy' ? ` via access policy ${u.permission}` : ''}`);
    for (const d of i.denied) out.push(`  denied:  ${clean(d.action)} ×${d.count} at ${d.scopes.map(clean).join(', ')}`);
    for (const s of i.suggestion.roles) {
      const alt = s.alternatives.length > 0 ? `; or ${s.alternatives.map(clean).join(', ')}` : '';
      out.push(`  suggest: ${clean(s.roleName)} at ${clean(s.scope)}  (covers ${s.covers.map(clean).join(', ')}${alt})`);
    }
    for (const p of i.suggestion.accessPolicies) out.push(`  suggest: access policy on ${clean(p.vaultId)}: ${clean(JSON.stringify(p.permissions))}`);
    for (const f of i.findings) out.push(`  - ${clean(f)}`);
    out.push('');
  }
  for (const n of r.notes) out.push(`Note: ${n}`);
  return out.join('\n');
}
