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
`

/** The page frame: no inline script or style, so a strict CSP holds. */
export function layout(title: string, body: Page): Page {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · hono-redis-session demo</title>
        <link rel="stylesheet" href="/app.css" />
      </head>
      <body>
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
  message?: string | undefined
  error?: string | undefined
}): Page {
  const { enrolled, pending, fresh, message, error } = state
  const codeForm = (action: string, label: string) =>
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
      <p><button type="submit">${label}</button></p>
    </form>`
  return layout(
    'Two-factor authentication',
    html`<h1>Two-factor authentication</h1>
      ${message ? html`<p role="status">${message}</p>` : ''}
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${
        enrolled
          ? html`<p>An authenticator app is set up.${fresh ? ' You verified it recently.' : ''}</p>
              ${codeForm('/settings/2fa/verify', 'Verify')}`
          : pending
            ? html`<p>Scan this code with an authenticator app, then enter the code it shows.</p>
                <figure>
                  ${raw(pending.qrSvg)}
                  <figcaption>Or enter the key <code>${pending.secret}</code></figcaption>
                </figure>
                ${codeForm('/settings/2fa/confirm', 'Confirm')}`
            : html`<form method="post" action="/settings/2fa/enrol">
                <button type="submit">Set up an authenticator app</button>
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
