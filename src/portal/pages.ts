/** Server-rendered pages: the sign-in form (works without script) and the shell the UI bundle mounts into. */

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const LOGO = `<svg class="logo" viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="7" fill="#0b5cad"/><circle cx="12" cy="16" r="5.5" fill="none" stroke="#fff" stroke-width="2.6"/><path d="M17.5 16h9M23 16v4M26.5 16v3" stroke="#fff" stroke-width="2.6" stroke-linecap="round"/></svg>`;

function page(title: string, bodyClass: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/portal/favicon.svg" type="image/svg+xml">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/portal/assets/app.css">
${script}
</head>
<body class="${bodyClass}">
${body}
</body>
</html>
`;
}

export function signInPage(input: { tenantId: string; error?: string; notice?: string; clientId?: string }): string {
  const alert = input.error
    ? `<div class="alert alert-error" role="alert">${esc(input.error)}</div>`
    : input.notice
      ? `<div class="alert alert-info" role="status">${esc(input.notice)}</div>`
      : '';
  return page(
    'Sign in · Keyless portal',
    'signin-page',
    `<main class="signin-card">
  <div class="signin-brand">${LOGO}<span>Keyless portal</span></div>
  <h1>Sign in</h1>
  <p class="muted">Sign in with an application's client ID and client secret. You see and change what Azure RBAC grants that application, nothing more.</p>
  ${alert}
  <form method="post" action="/portal/sign-in" autocomplete="off" class="signin-form">
    <label for="client_id">Client (application) ID</label>
    <input id="client_id" name="client_id" required spellcheck="false" autocomplete="off" value="${esc(input.clientId ?? '')}" placeholder="00000000-0000-0000-0000-000000000000">
    <label for="client_secret">Client secret</label>
    <input id="client_secret" name="client_secret" type="password" required autocomplete="off">
    <button type="submit" class="btn btn-primary">Sign in</button>
  </form>
  <p class="muted small">The admin application's credential is in <code>.keyless/admin.json</code>. Tenant <code>${esc(input.tenantId)}</code>.</p>
</main>`,
  );
}

export function shellPage(): string {
  return page(
    'Keyless portal',
    'app-page',
    `<div id="app"><div class="boot">Loading…</div></div>
<noscript><p class="boot">The Keyless portal needs JavaScript.</p></noscript>`,
    '<script type="module" src="/portal/assets/app.js"></script>',
  );
}
