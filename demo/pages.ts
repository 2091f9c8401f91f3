import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'

type Page = HtmlEscapedString | Promise<HtmlEscapedString>

/** The demo's stylesheet, served at /app.css so the CSP needs no inline styles. */
export const STYLESHEET = `body {
font:
16px/1.5 system-ui,
sans-serif;
max-width: 40rem;
margin: 2rem auto;
padding: 0 1rem;
}
form {
margin: 1rem 0;
}
label {
display: block;
margin: 0.5rem 0 0.2rem;
}
input,
button {
font: inherit;
padding: 0.4rem 0.6rem;
}
:focus-visible {
outline: 3px solid #1a5fb4;
outline-offset: 2px;
}
.error {
color: #a51d2d;
}
/* dashboard, devices, QR code (compact: this text ships in the Worker bundle) */
.wide{max-width: 64rem;}
table{border-collapse: collapse;width: 100%;}
th,td{text-align: left;padding: 0.4rem 0.5rem;border-bottom: 1px solid #ccc;vertical-align: top;}
td form{margin: 0;}
figure:not(.chart) svg{display: block;width: 14rem;max-width: 100%;height: auto;padding: 1rem;background: #fff;}
.current{background: #eef4fb;}
time{white-space: nowrap;}
.note{font-size: 0.9rem;color: #444;}
.visually-hidden{position: absolute;width: 1px;height: 1px;overflow: hidden;clip: rect(0 0 0 0);white-space: nowrap;}
.stats{display: grid;grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr));gap: 0.75rem;margin: 0;}
.stat{border: 1px solid #ccc;border-radius: 6px;padding: 0.5rem 0.75rem;}
.stat dt{font-size: 0.85rem;color: #444;}
.stat dd{margin: 0;font-size: 1.4rem;font-variant-numeric: tabular-nums;}
.charts{display: grid;grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr));gap: 1rem;}
.chart{margin: 0;}
.chart svg{display: block;width: 100%;height: 8rem;border: 1px solid #ccc;background: #fafafa;}
.chart .range{margin: 0.2rem 0 0;font-size: 0.85rem;color: #444;}
.grid{stroke: #ddd;stroke-width: 1;}
.series{fill: none;stroke-width: 2;}
.s1{stroke: #1a5fb4;}
.s2{stroke: #c64600;stroke-dasharray: 6 3;}
.s3{stroke: #a51d2d;}
@media (max-width: 36rem){.devices thead{display: none;}
.devices tr,.devices th,.devices td{display: block;border: 0;padding: 0.15rem 0;}
.devices tr{border-bottom: 1px solid #ccc;padding: 0.5rem 0;}
.devices td[data-label]::before{content: attr(data-label) ': ';color: #444;}
}
`

/** The page frame: no inline script or style, so a strict CSP holds. */
export function layout(title: string, body: Page, wide = false): Page {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · hono-redis-session demo</title>
        <link rel="stylesheet" href="/app.css" />
      </head>
      <body${wide ? raw(' class="wide"') : ''}>
        <main>${body}</main>
      </body>
    </html>`
}

export function loginPage(error?: string): Page {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <form method="post" action="/login">
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
        />
        <p><button type="submit">Sign in</button></p>
      </form>
      <p>
        Demo users: <code>alice</code> / <code>alice-password</code>, <code>admin</code> /
        <code>admin-password</code>.
      </p>`,
  )
}

export function homePage(user: string, roles: string[], count: number): Page {
  return layout(
    'Home',
    html`<h1>Hello, ${user}</h1>
      <p>Roles: ${roles.join(', ')}</p>
      <p>Counter: <output id="count">${count}</output></p>
      <form method="post" action="/counter"><button type="submit">Count</button></form>
      <nav aria-label="Settings">
        <ul>
          <li><a href="/settings/sessions">Your sessions</a></li>
          <li><a href="/settings/2fa">Two-factor authentication</a></li>
          <li><a href="/settings/password">Change password</a></li>
          ${roles.includes('admin') ? html`<li><a href="/admin/dashboard">Dashboard</a></li>` : ''}
        </ul>
      </nav>
      <form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
  )
}

export function adminPage(user: string): Page {
  return layout(
    'Admin',
    html`<h1>Administration</h1>
      <p>Signed in as ${user} with the <code>admin</code> role.</p>
      <ul>
        <li><a href="/admin/dashboard">Dashboard</a></li>
        <li><a href="/settings/sessions">My sessions</a></li>
      </ul>
      <p><a href="/">Home</a></p>`,
  )
}

/** The 2FA settings page: enrol (with a QR code), confirm, or step up. */
export function twoFactorPage(state: {
  enrolled: boolean
  pending?: { secret: string; uri: string; qrSvg: string } | null
  fresh: boolean
  /** Unused backup codes; null when none were made. */
  backupCodesLeft?: number | null
  /** A new set of backup codes, shown once. */
  backupCodes?: string[] | undefined
  /** This session signed in on a trusted device (no code asked). */
  trusted?: boolean
  message?: string | undefined
  error?: string | undefined
}): Page {
  const {
    enrolled,
    pending,
    fresh,
    backupCodesLeft = null,
    backupCodes,
    trusted = false,
    message,
    error,
  } = state
  const rememberBox = html`<p>
    <label
      ><input type="checkbox" name="remember" value="on" /> Don't ask again on this device for 30
      days</label
    >
  </p>`
  const codeForm = (action: string, label: string, remember = false) =>
    html`<form method="post" action="${action}">
      <label for="code">Code from your authenticator app</label>
      <input
        id="code"
        name="code"
        inputmode="numeric"
        autocomplete="one-time-code"
        pattern="[0-9]{6}"
        maxlength="6"
        required
      />
      ${remember ? rememberBox : ''}
      <p><button type="submit">${label}</button></p>
    </form>`
  // the step-up form takes a backup code too (letters, an optional dash)
  const stepUpForm = html`<form method="post" action="/settings/2fa/verify">
    <label for="code">Code from your authenticator app, or a backup code</label>
    <input id="code" name="code" autocomplete="one-time-code" maxlength="16" required />
    ${rememberBox}
    <p><button type="submit">Verify</button></p>
  </form>`
  const newCodes = backupCodes
    ? html`<section aria-labelledby="new-codes">
        <h2 id="new-codes">Your backup codes</h2>
        <p>
          Keep them somewhere safe: each one works once, instead of a code from the app. They are
          not shown again.
        </p>
        <ul class="backup-codes">
          ${backupCodes.map((code) => html`<li><code>${code}</code></li>`)}
        </ul>
      </section>`
    : ''
  const backupSection = html`<p>
      ${
        backupCodesLeft === null
          ? 'No backup codes yet.'
          : `${backupCodesLeft} backup code${backupCodesLeft === 1 ? '' : 's'} left.`
      }
    </p>
    ${
      fresh
        ? html`<form method="post" action="/settings/2fa/backup-codes">
            <button type="submit">Make new backup codes</button>
          </form>`
        : html`<p>Verify a code to make new backup codes.</p>`
    }`
  return layout(
    'Two-factor authentication',
    html`<h1>Two-factor authentication</h1>
      ${message ? html`<p role="status">${message}</p>` : ''}
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${
        pending
          ? html`<p>Scan this code with an authenticator app, then enter the code it shows.</p>
              <figure>
                ${raw(pending.qrSvg)}
                <figcaption>Or enter the key <code>${pending.secret}</code></figcaption>
              </figure>
              ${codeForm('/settings/2fa/confirm', 'Confirm')}`
          : enrolled
            ? html`${newCodes}
                <p>An authenticator app is set up.${fresh ? ' You verified it recently.' : ''}</p>
                ${trusted ? html`<p>You signed in on a trusted device: no code was asked.</p>` : ''}
                ${stepUpForm} ${backupSection}
                <form method="post" action="/settings/2fa/trusted/revoke">
                  <button type="submit">Stop trusting every device</button>
                </form>
                ${
                  fresh
                    ? html`<form method="post" action="/settings/2fa/enrol">
                          <button type="submit">Replace the authenticator app</button>
                        </form>
                        <form method="post" action="/settings/2fa/disable">
                          <button type="submit">Remove the authenticator app</button>
                        </form>`
                    : html`<p>Verify a code to replace or remove it.</p>`
                }`
            : html`<form method="post" action="/settings/2fa/enrol">
                <label for="password">Your password, to set up an authenticator app</label>
                <input
                  id="password"
                  name="password"
                  type="password"
                  autocomplete="current-password"
                  required
                />
                <p><button type="submit">Set up an authenticator app</button></p>
              </form>`
      }
      <p><a href="/settings/password">Change password</a> · <a href="/">Home</a></p>`,
  )
}

export function passwordPage(message?: string, error?: string): Page {
  return layout(
    'Change password',
    html`<h1>Change password</h1>
      ${message ? html`<p role="status">${message}</p>` : ''}
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <form method="post" action="/settings/password">
        <label for="password">New password (at least 12 characters)</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="new-password"
          minlength="12"
          required
        />
        <p><button type="submit">Change password</button></p>
      </form>
      <p>
        This needs a verified second factor within the last 5 minutes:
        <a href="/settings/2fa">verify</a>.
      </p>`,
  )
}

/** One row of the devices page. */
export interface DeviceRow {
  id: string
  createdAt: number
  lastSeenAt: number
  expiresAt: number
  client?: string | undefined
  current: boolean
}

const when = (ms: number) => {
  const iso = new Date(ms).toISOString()
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`
}

/** A short, readable name for a user agent ("Firefox on Linux"). */
export function describeClient(ua: string | undefined): string {
  if (!ua) return 'Unknown client'
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /(Chrome|Chromium)\//.test(ua)
        ? /HeadlessChrome/.test(ua)
          ? 'Headless Chrome'
          : 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : /^curl\//.test(ua)
            ? 'curl'
            : ua.split(/[\s/]/, 1)[0]!.slice(0, 40)
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : ''
  return os ? `${browser} on ${os}` : browser
}

/** "My devices": the user's sessions, revoke one, log out everywhere (form posts). */
export function sessionsPage(user: string, rows: DeviceRow[], message?: string): Page {
  return layout(
    'Your sessions',
    html`<h1>Your sessions</h1>
      <p>Signed in as ${user}. These devices hold a session of yours.</p>
      ${message ? html`<p role="status">${message}</p>` : ''}
      <table class="devices">
        <caption class="visually-hidden">
          Your active sessions
        </caption>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Signed in</th>
            <th scope="col">Last seen</th>
            <th scope="col">Expires</th>
            <th scope="col"><span class="visually-hidden">Action</span></th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) =>
              html`<tr${r.current ? raw(' class="current" aria-current="true"') : ''}>
                <th scope="row" title="${r.client ?? ''}">
                  ${describeClient(r.client)}${r.current ? ' (this device)' : ''}
                </th>
                <td data-label="Signed in">${when(r.createdAt)}</td>
                <td data-label="Last seen">${when(r.lastSeenAt)}</td>
                <td data-label="Expires">${when(r.expiresAt)}</td>
                <td>
                  <form method="post" action="/settings/sessions/${r.id}/revoke">
                    <button type="submit">
                      ${r.current ? 'Sign out this device' : 'Revoke'}<span class="visually-hidden"
                        >: ${describeClient(r.client)}, signed in ${new Date(r.createdAt).toISOString()}</span
                      >
                    </button>
                  </form>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Everywhere</h2>
      <form method="post" action="/settings/sessions/logout-all">
        <button type="submit">Sign out of all devices</button>
      </form>
      <p><a href="/settings/2fa">Two-factor authentication</a> · <a href="/">Home</a></p>`,
    true,
  )
}
