import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'

type Page = HtmlEscapedString | Promise<HtmlEscapedString>

/** The page frame: no inline script, so a strict CSP holds. */
export function layout(title: string, body: Page): Page {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · hono-redis-session demo</title>
        <style>
          body {
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
        </style>
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
