/**
 * The demo's flows in headless Chromium (playwright-core + Debian's /usr/bin/chromium) against
 * the Node demo as a child process on a real redis-server: login, counter across reloads, cookie
 * flags (C1) in localhost dev mode and over HTTPS, a second device revoked from the first (L7),
 * TOTP enrolment and step-up before a password change (A3), a trusted device that skips the code
 * at the next sign-in, the admin dashboard's live numbers,
 * logout (C5). Screenshots of every page go to test-artifacts/screenshots/ (git-ignored).
 */
import { TOTP } from 'otpauth'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  get,
  launchChromium,
  screenshot,
  selfSignedCert,
  startNodeDemo,
  type DemoServer,
} from '../helpers/browser.js'
import { startRedis, stopAll, type RedisServer } from '../helpers/redis.js'

const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1280, height: 800 }

let browser: Browser
let redis: RedisServer
const servers: DemoServer[] = []

beforeAll(async () => {
  browser = await launchChromium()
  redis = await startRedis()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all(servers.map((s) => s.stop()))
  await stopAll()
})

async function signIn(page: Page, origin: string, user: string, password = `${user}-password`) {
  await page.goto(`${origin}/`)
  await page.getByLabel('Username').fill(user)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect.poll(() => page.locator('h1').textContent()).toBe(`Hello, ${user}`)
}

const sessionCookie = async (context: BrowserContext) =>
  (await context.cookies()).filter((c) => /session$/.test(c.name))

describe('browser: the Node demo on localhost (dev mode, Redis store)', () => {
  let demo: DemoServer
  let laptop: BrowserContext
  let page: Page

  beforeAll(async () => {
    demo = await startNodeDemo({ REDIS_URL: redis.url })
    servers.push(demo)
    laptop = await browser.newContext({ viewport: DESKTOP })
    page = await laptop.newPage()
  }, 60_000)

  it('signs in; the counter survives a reload; C1 cookie flags in dev mode', async () => {
    await page.goto(`${demo.origin}/`)
    await screenshot(page, 'login-desktop')
    await signIn(page, demo.origin, 'alice')
    for (let i = 0; i < 2; i++) await page.getByRole('button', { name: 'Count' }).click()
    await expect.poll(() => page.locator('#count').textContent()).toBe('2')
    await page.reload()
    expect(await page.locator('#count').textContent()).toBe('2')
    await screenshot(page, 'home-desktop')

    const cookies = await sessionCookie(laptop)
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatchObject({
      name: 'session', // plain-HTTP localhost dev mode: no prefix, no Secure
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
      secure: false,
      domain: 'localhost',
    })
    expect(await page.evaluate(() => document.cookie)).toBe('') // HttpOnly: invisible to scripts
  })

  it('L7: a second device is listed and revoked from the first on /settings/sessions', async () => {
    const phone = await browser.newContext({
      viewport: PHONE,
      userAgent: 'Mozilla/5.0 (Linux; Android 14) Firefox/140.0',
    })
    const phonePage = await phone.newPage()
    await signIn(phonePage, demo.origin, 'alice')

    await page.goto(`${demo.origin}/settings/sessions`)
    const rows = page.locator('table.devices tbody tr')
    await expect.poll(() => rows.count()).toBe(2)
    expect(await page.locator('tr[aria-current="true"]').textContent()).toContain('(this device)')
    expect(await page.locator('tbody').textContent()).toContain('Firefox on Android')
    await screenshot(page, 'sessions-desktop')
    await phonePage.goto(`${demo.origin}/settings/sessions`)
    await screenshot(phonePage, 'sessions-phone')

    // keyboard only: focus the revoke button of the other device and press Enter
    const revoke = page.locator('tbody tr:not([aria-current]) button')
    await revoke.focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Session revoked.')
    expect(await rows.count()).toBe(1)

    await phonePage.goto(`${demo.origin}/`)
    expect(await phonePage.locator('h1').textContent()).toBe('Sign in')
    expect(await sessionCookie(phone)).toEqual([])
    await phone.close()
  })

  it('A3: enrols TOTP on /settings/2fa, steps up, then changes the password', async () => {
    await page.goto(`${demo.origin}/settings/password`)
    await screenshot(page, 'password-desktop')
    await page.goto(`${demo.origin}/settings/2fa`)
    await screenshot(page, '2fa-start-desktop')
    // the first factor asks for the password again
    await page.getByLabel('Your password, to set up an authenticator app').fill('alice-password')
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click()
    const secret = (await page.locator('figcaption code').textContent())!.trim()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(await page.locator('figure svg').count()).toBe(1) // the QR code
    await screenshot(page, '2fa-enrol-desktop')
    const totp = new TOTP({ secret })
    await page.getByLabel('Code from your authenticator app').fill(totp.generate())
    await page.getByRole('button', { name: 'Confirm' }).click()
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toBe('Authenticator app set up and verified.')

    // a later step-up with the next code (±1 step is accepted; a used code is not)
    await page
      .getByLabel('Code from your authenticator app')
      .fill(totp.generate({ timestamp: Date.now() + 30_000 }))
    await page.getByRole('button', { name: 'Verify' }).click()
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Verified.')
    await screenshot(page, '2fa-verified-desktop')

    await page.goto(`${demo.origin}/settings/password`)
    await page.getByLabel('New password (at least 12 characters)').fill('a new long password')
    await page.getByRole('button', { name: 'Change password' }).click()
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Password changed.')
    await screenshot(page, 'password-changed-desktop')
  })

  it('the admin dashboard shows live numbers that move while requests are made', async () => {
    const admin = await browser.newContext({ viewport: DESKTOP })
    const adminPage = await admin.newPage()
    await signIn(adminPage, demo.origin, 'admin')

    // alice (no admin role) is refused
    const refused = await page.goto(`${demo.origin}/admin/dashboard`)
    expect(refused!.status()).toBe(403)

    await adminPage.goto(`${demo.origin}/admin/dashboard`)
    expect(await adminPage.locator('h1').textContent()).toBe('Dashboard')
    expect(await adminPage.locator('#dash-stats').getAttribute('aria-live')).toBe('polite')
    const read = async () => ({
      qps: await adminPage.locator('#m-qps').textContent(),
      active: await adminPage.locator('#m-active').textContent(),
      totals: await adminPage.locator('#totals').textContent(),
    })
    const first = await read()
    // traffic: 60 requests over ~3 s, while the page polls every 2 s
    for (let i = 0; i < 60; i++) {
      await get(`${demo.origin}/healthz`)
      await new Promise((r) => setTimeout(r, 50))
    }
    await expect.poll(async () => (await read()).qps, { timeout: 10_000 }).not.toBe(first.qps)
    const second = await read()
    expect(second.totals).not.toBe(first.totals)
    expect(Number(second.qps)).toBeGreaterThan(0)
    expect(Number(second.active)).toBeGreaterThanOrEqual(2) // keys in Redis: an approximation
    expect(await adminPage.locator('#chart-qps polyline').getAttribute('points')).toMatch(/\d/)
    await screenshot(adminPage, 'dashboard-desktop')

    // pause stops the updates (WCAG 2.2.2), keyboard operable
    await adminPage.locator('#dash-toggle').focus()
    await adminPage.keyboard.press('Space')
    expect(await adminPage.locator('#dash-toggle').getAttribute('aria-pressed')).toBe('true')

    await adminPage.setViewportSize(PHONE)
    await adminPage.reload()
    await expect.poll(() => adminPage.locator('#chart-qps polyline').count()).toBe(1)
    const width = await adminPage.evaluate(() => document.documentElement.scrollWidth)
    expect(width).toBeLessThanOrEqual(PHONE.width) // no horizontal scrolling on a phone
    await screenshot(adminPage, 'dashboard-phone')
    await adminPage.goto(`${demo.origin}/admin`)
    await screenshot(adminPage, 'admin-desktop')
    await adminPage.goto(`${demo.origin}/`)
    await screenshot(adminPage, 'home-phone')
    await admin.close()
  })

  it("trusted device: the step-up form's box; the next sign-in changes the password with no code", async () => {
    const tablet = await browser.newContext({ viewport: DESKTOP })
    const tab = await tablet.newPage()
    await signIn(tab, demo.origin, 'admin')
    await tab.goto(`${demo.origin}/settings/2fa`)
    await tab.getByLabel('Your password, to set up an authenticator app').fill('admin-password')
    await tab.getByRole('button', { name: 'Set up an authenticator app' }).click()
    const totp = new TOTP({ secret: (await tab.locator('figcaption code').textContent())!.trim() })
    await tab.getByLabel('Code from your authenticator app').fill(totp.generate())
    await tab.getByRole('button', { name: 'Confirm' }).click()
    await expect
      .poll(() => tab.getByRole('status').textContent())
      .toBe('Authenticator app set up and verified.')
    await tab
      .getByLabel('Code from your authenticator app')
      .fill(totp.generate({ timestamp: Date.now() + 30_000 }))
    await tab.getByLabel("Don't ask again on this device for 30 days").check()
    await screenshot(tab, '2fa-trust-desktop')
    await tab.getByRole('button', { name: 'Verify' }).click()
    await expect.poll(() => tab.getByRole('status').textContent()).toBe('Verified.')
    const trust = (await tablet.cookies()).find((c) => c.name === 'trusted-device')!
    expect(trust).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' })
    expect(trust.expires * 1000 - Date.now()).toBeGreaterThan(29 * 86_400_000)

    // signed out and in again: no code asked for the password change
    await tab.goto(`${demo.origin}/`)
    await tab.getByRole('button', { name: 'Sign out' }).click()
    await signIn(tab, demo.origin, 'admin')
    await tab.goto(`${demo.origin}/settings/2fa`)
    expect(await tab.getByText('You signed in on a trusted device').count()).toBe(1)
    await tab.goto(`${demo.origin}/settings/password`)
    await tab.getByLabel('New password (at least 12 characters)').fill('a new long password')
    await tab.getByRole('button', { name: 'Change password' }).click()
    await expect.poll(() => tab.getByRole('status').textContent()).toBe('Password changed.')
    await tablet.close()
  })

  it('C5: signing out clears the cookie and the session', async () => {
    await page.goto(`${demo.origin}/`)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sign in')
    expect(await sessionCookie(laptop)).toEqual([])
    await laptop.close()
  })
})

describe('browser: the Node demo over HTTPS (TLS_CERT/TLS_KEY)', () => {
  it('C1: the cookie is __Host-session with Secure, HttpOnly, SameSite=Lax, Path=/', async () => {
    const tls = await selfSignedCert()
    const demo = await startNodeDemo({ REDIS_URL: redis.url, TLS_CERT: tls.cert, TLS_KEY: tls.key })
    servers.push(demo)
    expect(demo.origin).toMatch(/^https:/)
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: DESKTOP })
    const page = await context.newPage()
    const res = await page.goto(`${demo.origin}/`)
    expect(res!.headers()['strict-transport-security']).toBe('max-age=63072000; includeSubDomains')
    await signIn(page, demo.origin, 'alice')
    const cookies = await sessionCookie(context)
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatchObject({
      name: '__Host-session',
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
      domain: 'localhost',
    })
    await screenshot(page, 'home-https-desktop')
    await context.close()
  })
})
