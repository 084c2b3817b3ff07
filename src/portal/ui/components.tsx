import type { ComponentChildren, JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import type { Async } from './hooks.js';
import { href } from './router.js';
import { kindLabel, usePrincipalNames } from './state.js';

export interface Column<T> {
  title: string;
  render(row: T): ComponentChildren;
  class?: string;
}

export function Table<T>({ columns, rows, rowKey, empty, label }: { columns: Column<T>[]; rows: T[]; rowKey(row: T): string; empty: string; label: string }) {
  return (
    <div class="table-wrap">
      <table class="table" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.title} class={c.class}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td class="empty" colSpan={columns.length}>
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr key={rowKey(r)}>
                {columns.map((c) => (
                  <td key={c.title} class={c.class}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

export interface TabDef {
  id: string;
  label: string;
}

/** Tabs that are links: the selected tab lives in the URL, so reload and back work. */
export function Tabs({ tabs, active, link }: { tabs: TabDef[]; active: string; link(id: string): string }) {
  return (
    <nav class="tabs" role="tablist">
      {tabs.map((t) => (
        <a key={t.id} role="tab" aria-selected={t.id === active} class={t.id === active ? 'tab active' : 'tab'} href={link(t.id)}>
          {t.label}
        </a>
      ))}
    </nav>
  );
}

/** In-page tabs for sub-sections that need no URL of their own. */
export function Pills({ tabs, active, onSelect }: { tabs: TabDef[]; active: string; onSelect(id: string): void }) {
  return (
    <div class="pills" role="tablist">
      {tabs.map((t) => (
        <button key={t.id} role="tab" aria-selected={t.id === active} class={t.id === active ? 'pill active' : 'pill'} onClick={() => onSelect(t.id)}>
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'bad' | 'warn' | 'info' | 'muted'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

/** A failed read shown in place: the service's code and message, and Keyless's explanation when it gave one. */
export function ErrorPanel({ error, title }: { error: unknown; title?: string }) {
  const e = error instanceof ApiError ? error : undefined;
  return (
    <div class="alert alert-error" role="alert">
      <strong>{title ?? (e ? e.code : 'Error')}</strong>
      {title && e ? <span class="code"> {e.code}</span> : null}
      <p>{e ? e.message : error instanceof Error ? error.message : String(error)}</p>
      {e?.authz ? <p class="small muted">Keyless: {e.authz}</p> : null}
    </div>
  );
}

/** Renders an Async's three states; `children` sees the data only once it is there. */
export function Loaded<T>({ state, children, title }: { state: Async<T>; children(data: T): ComponentChildren; title?: string }) {
  if (state.error) return <ErrorPanel error={state.error} {...(title ? { title } : {})} />;
  if (state.data === undefined) return <Spinner />;
  return <>{children(state.data)}</>;
}

export function Toggle({ on, onChange, disabled, label }: { on: boolean; onChange(v: boolean): void; disabled?: boolean; label: string }) {
  return (
    <div class="segmented" role="radiogroup" aria-label={label}>
      <button type="button" role="radio" aria-checked={!on} class={!on ? 'seg active' : 'seg'} disabled={disabled} onClick={() => onChange(false)}>
        Off
      </button>
      <button type="button" role="radio" aria-checked={on} class={on ? 'seg active' : 'seg'} disabled={disabled} onClick={() => onChange(true)}>
        On
      </button>
    </div>
  );
}

export function Dialog({ title, children, onClose, actions }: { title: string; children: ComponentChildren; onClose(): void; actions: ComponentChildren }) {
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={title}>
        <h3>{title}</h3>
        <div class="dialog-body">{children}</div>
        <div class="dialog-actions">{actions}</div>
      </div>
    </div>
  );
}

export function Copyable({ value, label }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <span class="copyable">
      <code aria-label={label}>{value}</code>
      <button
        type="button"
        class="btn-icon"
        title="Copy to clipboard"
        aria-label="Copy to clipboard"
        onClick={() => {
          void navigator.clipboard?.writeText(value).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          });
        }}
      >
        {copied ? (
          <svg viewBox="0 0 16 16" class="icon" aria-hidden="true">
            <path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" />
          </svg>
        ) : (
          <svg viewBox="0 0 16 16" class="icon" aria-hidden="true">
            <rect x="5.5" y="5.5" width="8" height="8" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.4" />
            <path d="M10.5 3.5v-.5a1.5 1.5 0 00-1.5-1.5H4A1.5 1.5 0 002.5 3v5A1.5 1.5 0 004 9.5h.5" fill="none" stroke="currentColor" stroke-width="1.4" />
          </svg>
        )}
      </button>
    </span>
  );
}

export function KeyValues({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {rows.map(([k, v]) => (
        <div class="kv-row" key={k}>
          <dt>{k}</dt>
          <dd>{v ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

export function PageHeader({ title, subtitle, crumbs, actions }: { title: string; subtitle?: string; crumbs?: [string, string][]; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      {crumbs && crumbs.length > 0 ? (
        <nav class="crumbs" aria-label="Breadcrumb">
          {crumbs.map(([label, link], i) => (
            <span key={link}>
              {i > 0 ? <span class="sep">›</span> : null}
              <a href={link}>{label}</a>
            </span>
          ))}
        </nav>
      ) : null}
      <div class="page-title-row">
        <div>
          <h1>{title}</h1>
          {subtitle ? <p class="muted">{subtitle}</p> : null}
        </div>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </div>
    </header>
  );
}

/** A principal shown as people know it: its name, what kind it is, and the object id underneath. */
export function Principal({ id }: { id: string }) {
  const name = usePrincipalNames([id])(id);
  return (
    <div class="principal">
      <a href={href('iam', { principal: id })} class="principal-name">
        {name?.displayName ?? 'Unknown principal'}
      </a>
      <span class="small muted">
        {kindLabel(name?.kind)} · <code>{id}</code>
      </span>
    </div>
  );
}

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      {children}
      {hint ? <span class="field-hint">{hint}</span> : null}
    </label>
  );
}

export function Button(props: JSX.ButtonHTMLAttributes<HTMLButtonElement> & { kind?: 'primary' | 'danger' | 'plain'; busy?: boolean }) {
  const { kind = 'plain', busy, children, disabled, ...rest } = props;
  return (
    <button type="button" {...rest} class={`btn btn-${kind}`} disabled={Boolean(disabled) || busy}>
      {busy ? <span class="spinner spinner-sm" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

export const fmtTime = (v: string | number | undefined): string => {
  if (v === undefined || v === '') return '—';
  const d = typeof v === 'number' ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
};
