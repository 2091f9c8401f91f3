import { createDemoApp, type DemoOptions } from '../../demo/app.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/types.js'
import { CookieJar, KEY_A } from './session-app.js'

/** The demo app with a cookie-jar client: form posts, same-origin headers, login helper. */
export function demo(store: Store = memoryStore(), options: Partial<DemoOptions> = {}) {
  const app = createDemoApp({ store, keys: [KEY_A], insecureLocalhost: true, ...options })
  const call = async (
    jar: CookieJar,
    method: string,
    path: string,
    form?: Record<string, string>,
    origin = 'http://localhost',
  ) => {
    const headers: Record<string, string> = { Origin: origin }
    if (jar.cookies.size) headers.Cookie = jar.header()
    let body: string | undefined
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(form).toString()
    }
    return jar.take(await app.request(`http://localhost${path}`, { method, headers, body }))
  }
  const login = async (jar: CookieJar, username = 'alice', password = `${username}-password`) =>
    call(jar, 'POST', '/login', { username, password })
  return { app, call, login }
}
