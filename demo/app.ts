import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { csrf } from 'hono/csrf'
import { secureHeaders } from 'hono/secure-headers'
import { renderSVG } from 'uqr'
import {
  requireFreshAuth,
  requirePermission,
  requireRole,
  requireSession,
  session,
  type SessionEnv,
} from '../src/index.js'
import { meetsMethod } from '../src/methods.js'
import { totp, type TotpOptions } from '../src/totp.js'
import { TRUSTED_METHOD, trustedDevices } from '../src/trusted-device.js'
import type { SessionOptions } from '../src/runtime.js'
import type { Store, StoreHealth } from '../src/store/types.js'
import { withTimeout } from '../src/util/timeout.js'
import { MetricsRecorder, metricsMiddleware } from '../src/metrics/index.js'
import { DASHBOARD_SCRIPT, dashboardPage, type DashboardData } from './dashboard.js'
import {
  STYLESHEET,
  adminPage,
  homePage,
  loginPage,
  passwordPage,
  sessionsPage,
  twoFactorPage,
} from './pages.js'
import { isWellFormed } from '../src/bytes.js'
import { AccessError, SessionInputError } from '../src/errors.js'
import { loginThrottle } from './login-throttle.js'
import { VERSION } from './version.js'

/** The demo's session data. Preferences are fields named `pref.<name>`. */
export type DemoData = { count: number } & Record<`pref.${string}`, string>

export interface DemoOptions extends Omit<SessionOptions, 'store'> {
  store: Store
  /** Timeout of the `/readyz` store ping, milliseconds. Default 1000. */
  readyTimeoutMs?: number
  /** The metrics recorder (request timing, session events, dashboard history). Default a new one. */
  metrics?: MetricsRecorder
  /**
   * Samples the number of active sessions for the dashboard. Default: the store's ping details
   * (`sessions`, as the memory store reports, or `keys`), else unknown.
   */
  activeSessions?: () => Promise<number | null>
  /**
   * Serves `GET /metrics` (e.g. Prometheus text on Node), given the client's address from
   * `clientAddress`. Default: no such route.
   */
  metricsEndpoint?: (request: Request, client: string | undefined) => Response | Promise<Response>
  /** The version shown by /healthz and /readyz. Default the package's. */
  version?: string
  /**
   * The client's address for the per-client login limit, from the connection (never from a
   * header the client controls). Default: unknown, and only the per-user limit applies.
   */
  clientAddress?: (c: Context) => string | undefined
  /**
   * The second factor's limits, lockout and backup codes (`totp()` options). Default the
   * library's: 5 failed codes per 5 minutes, the step-up locked for 15 minutes after 10 failed
   * codes over any number of sign-ins, 10 backup codes.
   */
  twoFactor?: Pick<TotpOptions, 'maxFailures' | 'failureWindow' | 'lockout' | 'backupCodes'>
}

const PREF_NAME = /^[A-Za-z0-9_-]{1,64}$/
/** Role -> permissions of the demo. */
export const DEMO_PERMISSIONS = {
  user: ['profile:write'],
  admin: ['profile:write', 'admin:view', 'metrics:view'],
}
/** How recent the second factor must be for a password change, seconds. */
const FRESH_AUTH = { maxAge: 300, methods: ['otp'] }
/** An operation that always asks for the code, even after a sign-in on a trusted device. */
const ALWAYS_FRESH = { ...FRESH_AUTH, alwaysFresh: true }
/** How long "don't ask again on this device" lasts: 30 days. */
const TRUSTED_DEVICE_SECONDS = 30 * 86_400
const PREF_VALUE_MAX = 1024
/**
 * The largest body the demo reads: its largest legal form is a 256-character password (or a
 * 1024-character preference) URL-encoded, up to 3 bytes a character, with the field names:
 * under 4 KiB. Twice that, then 413 before anything is parsed.
 */
const MAX_BODY_BYTES = 8 * 1024

/** The request's form; a malformed one (a broken multipart body, ...) is a 400, not a 500. */
async function readForm(c: Context): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody()
  } catch {
    throw new SessionInputError('malformed form body')
  }
}

/**
 * The demo app, shared by the Node server, the Worker and Pages Functions. Its HTTP contract is
 * public: see the README.
 */
export function createDemoApp(options: DemoOptions): Hono<SessionEnv<DemoData>> {
  const {
    store,
    readyTimeoutMs = 1000,
    metrics = new MetricsRecorder(),
    metricsEndpoint,
    version = VERSION,
  } = options
  const app = new Hono<SessionEnv<DemoData>>()
  const startedAt = Date.now()
  const pingStore = () => withTimeout(store.ping(), readyTimeoutMs, () => new Error('timeout'))
  const activeSessions =
    options.activeSessions ?? (async () => countFromDetails((await store.ping()).details) ?? null)
  // One store sample per second at most, however many dashboards poll.
  let sample: { at: number; result: Promise<StoreSample> } | undefined
  const sampleStore = (): Promise<StoreSample> => {
    const at = Date.now()
    if (sample && at - sample.at < 1000) return sample.result
    const result = (async (): Promise<StoreSample> => {
      try {
        const [health, active] = await Promise.all([
          pingStore(),
          activeSessions().catch(() => null),
        ])
        if (active !== null) metrics.setActiveSessions(active)
        return { ok: true, health }
      } catch {
        return { ok: false }
      }
    })()
    sample = { at, result }
    return result
  }

  // Every request is timed and labelled with its route class (from the matched pattern).
  app.use(metricsMiddleware(metrics))

  // HSTS, a strict CSP (no inline script or style), nosniff, no referrer, no framing.
  app.use(
    secureHeaders({
      strictTransportSecurity: 'max-age=63072000; includeSubDomains',
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
    }),
  )
  app.get('/app.css', (c) =>
    c.body(STYLESHEET, 200, {
      'Content-Type': 'text/css; charset=utf-8',
      'Cache-Control': 'public, max-age=3600',
    }),
  )
  app.get('/app.js', (c) =>
    c.body(DASHBOARD_SCRIPT, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=3600',
    }),
  )

  // Liveness: never depends on the store.
  app.get('/healthz', (c) =>
    c.json({ status: 'ok', version, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }),
  )
  // Readiness: the store answers within the timeout; replication and failover state when known.
  app.get('/readyz', async (c) => {
    const started = performance.now()
    try {
      const health = await pingStore()
      const active = countFromDetails(health.details)
      if (active !== undefined) metrics.setActiveSessions(active)
      return c.json({
        status: 'ok',
        version,
        store: { latencyMs: round(health.latencyMs), ...health.details },
        ...replicationOf(health),
      })
    } catch (err) {
      const reason =
        (err as Error).message === 'timeout'
          ? `no answer within ${readyTimeoutMs} ms`
          : 'ping failed'
      return c.json(
        {
          status: 'error',
          error: `session store unavailable: ${reason}`,
          version,
          store: { latencyMs: round(performance.now() - started) },
        },
        503,
      )
    }
  })
  if (metricsEndpoint) app.get('/metrics', (c) => metricsEndpoint(c.req.raw, clientOf(c)))

  // every body is bounded before any route reads it
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        c.json(
          { error: `request body over ${MAX_BODY_BYTES} bytes`, code: 'ERR_BODY_TOO_LARGE' },
          413,
          { Connection: 'close' },
        ),
    }),
  )
  app.use(csrf())
  const onEvent = options.onEvent
  app.use(
    session<DemoData>({
      permissions: DEMO_PERMISSIONS,
      ...options,
      store,
      onEvent: (event) => {
        metrics.onEvent(event)
        onEvent?.(event)
      },
    }),
  )
  const otp = totp({
    issuer: 'hono-redis-session demo',
    freshAuthMaxAge: FRESH_AUTH.maxAge,
    ...options.twoFactor,
  })
  const devices = trustedDevices({
    keys: options.keys,
    store,
    maxAge: TRUSTED_DEVICE_SECONDS,
    insecureLocalhost: options.insecureLocalhost ?? false,
  })
  /** The step-up form's "don't ask again on this device" box. */
  const wantsTrust = (form: Record<string, unknown>) =>
    form.remember === 'on' || form.remember === '1' || form.remember === 'true'
  /** Ends trust in every device of the user, then every session (log out everywhere). */
  const logoutEverywhere = async (c: Context<SessionEnv<DemoData>>) => {
    const s = c.get('session')
    await devices.revoke(s, { sessions: false })
    devices.forget(c)
    return s.destroyAll()
  }
  const status = (reason: string) => (reason === 'rate-limited' || reason === 'locked' ? 429 : 401)
  /** What a refused code tells the user. */
  const refusal = (result: { reason: string; retryAfterSeconds?: number }) =>
    result.reason === 'locked'
      ? `Too many wrong codes: verification is locked for ${Math.ceil((result.retryAfterSeconds ?? 0) / 60)} minutes.`
      : `Not accepted (${result.reason}).`
  /** The Retry-After header of a refusal that says when to retry. */
  const retryAfter = (result: object): Record<string, string> =>
    'retryAfterSeconds' in result ? { 'Retry-After': String(result.retryAfterSeconds) } : {}
  const throttle = loginThrottle(store, undefined, options.now)
  const clientOf = (c: Context) => {
    try {
      return options.clientAddress?.(c)
    } catch {
      return undefined // no connection information (an in-process request)
    }
  }
  /** A password check of `username` behind the login limits. */
  const checkPassword = (c: Context, username: unknown, password: unknown) =>
    typeof username === 'string' &&
    username.length > 0 &&
    username.length <= 256 &&
    isWellFormed(username)
      ? throttle.check(username, password, clientOf(c))
      : Promise.resolve({ kind: 'wrong' as const })

  app.get('/', async (c) => {
    const s = c.get('session')
    const info = s.userId === undefined ? null : await s.info()
    if (!info?.userId) return c.html(loginPage((await s.flash<string>('error')) ?? undefined))
    return c.html(homePage(info.userId, info.roles, (await s.get('count')) ?? 0))
  })

  app.post('/login', async (c) => {
    const form = await readForm(c)
    const checked = await checkPassword(c, form.username, form.password)
    if (checked.kind === 'throttled') {
      c.header('Retry-After', String(checked.retryAfterSeconds))
      return c.html(loginPage('Too many failed sign-ins. Try again later.'), 429)
    }
    if (checked.kind === 'wrong') return c.html(loginPage('Wrong username or password.'), 401)
    const s = c.get('session')
    // a device trusted by this user's step-up stands in for the code at this sign-in
    const trusted = await devices.recognise(c, s, form.username as string)
    s.authenticate(form.username as string, {
      roles: checked.roles,
      amr: trusted ? ['pwd', 'trusted'] : ['pwd'],
    })
    return c.redirect('/', 303)
  })

  app.post('/logout', (c) => {
    c.get('session').destroy()
    return c.redirect('/', 303)
  })

  app.get('/admin', requireRole('admin'), async (c) => {
    return c.html(adminPage(c.get('session').userId!))
  })

  // The live dashboard: a page, its data as JSON (polled by /app.js), admin only.
  const dashboardData = async (): Promise<DashboardData> => {
    const probe = await sampleStore()
    const points = metrics.history()
    const lastMinute = metrics.summary(60)
    return {
      now: Date.now(),
      version,
      summary: metrics.summary(10),
      storeErrorsLastMinute: lastMinute.storeErrors,
      activeSessions: metrics.activeSessions,
      store: probe.ok
        ? { ok: true, latencyMs: round(probe.health.latencyMs), details: probe.health.details }
        : { ok: false },
      series: {
        t0: points[0]?.t ?? Date.now(),
        requests: points.map((p) => p.requests),
        p50: points.map((p) => p.p50),
        p99: points.map((p) => p.p99),
        storeErrors: points.map((p) => p.storeErrors),
        activeSessions: points.map((p) => p.activeSessions),
      },
      totals: metrics.totals(),
    }
  }
  app.get('/admin/dashboard', requireRole('admin'), async (c) =>
    c.html(dashboardPage(c.get('session').userId!, await dashboardData())),
  )
  app.get('/admin/metrics.json', requirePermission('metrics:view'), async (c) => {
    c.header('Cache-Control', 'no-store')
    return c.json(await dashboardData())
  })

  // "My devices" as pages: list, revoke one, sign out everywhere (form posts).
  app.get('/settings/sessions', requireSession(), async (c) => {
    const s = c.get('session')
    const message = (await s.flash<string>('sessions')) ?? undefined
    return c.html(sessionsPage(s.userId!, await s.listSessions(), message))
  })
  app.post('/settings/sessions/logout-all', requireSession(), async (c) => {
    await logoutEverywhere(c)
    return c.redirect('/', 303)
  })
  app.post('/settings/sessions/:id/revoke', requireSession(), async (c) => {
    const s = c.get('session')
    const id = c.req.param('id')
    const current = (await s.info())?.id === id
    await s.revoke(id)
    if (current) return c.redirect('/', 303)
    s.flash('sessions', 'Session revoked.')
    return c.redirect('/settings/sessions', 303)
  })

  // Two-factor authentication: pages (form posts) and a JSON API for scripts and tests.
  const twoFactorState = async (s: SessionEnv<DemoData>['Variables']['session']) => {
    const info = await s.info()
    const pending = await otp.pendingEnrolment(s)
    return {
      enrolled: await otp.isEnrolled(s),
      pending: pending && { ...pending, qrSvg: renderSVG(pending.uri) },
      fresh:
        !!info &&
        meetsMethod(info.amr, 'otp') &&
        s.now() - (info.authTime ?? 0) < FRESH_AUTH.maxAge * 1000,
      backupCodesLeft: await otp.backupCodes.remaining(s),
      trusted: !!info?.amr.includes(TRUSTED_METHOD),
    }
  }
  app.get('/settings/2fa', requireSession(), async (c) => {
    const s = c.get('session')
    const message = (await s.flash<string>('2fa')) ?? undefined
    return c.html(twoFactorPage({ ...(await twoFactorState(s)), message }))
  })
  /**
   * Starts enrolment: the first factor needs the password again (checked behind the login
   * limits), replacing one needs a fresh verification with it (the library checks).
   */
  const enrol = async (c: Context<SessionEnv<DemoData>>) => {
    const s = c.get('session')
    if (await otp.isEnrolled(s)) return { ok: true as const, ...(await otp.startEnrolment(s)) }
    const checked = await checkPassword(c, s.userId, (await readForm(c)).password)
    if (checked.kind !== 'ok') return { ok: false as const, checked }
    return { ok: true as const, ...(await otp.startEnrolment(s, { primaryVerified: true })) }
  }
  const passwordRefused = (checked: { kind: string; retryAfterSeconds?: number }) =>
    checked.kind === 'throttled'
      ? { status: 429 as const, reason: 'rate-limited', headers: retryAfter(checked) }
      : { status: 401 as const, reason: 'password-required', headers: {} }
  app.post('/settings/2fa/enrol', requireSession(), async (c) => {
    const started = await enrol(c)
    if (started.ok) return c.redirect('/settings/2fa', 303)
    const refused = passwordRefused(started.checked)
    const s = c.get('session')
    const error = 'Enter your password to set up an authenticator app.'
    return c.html(
      twoFactorPage({ ...(await twoFactorState(s)), error }),
      refused.status,
      refused.headers,
    )
  })
  app.post('/settings/2fa/disable', requireSession(), async (c) => {
    const s = c.get('session')
    const result = await otp.disable(s)
    if (result.ok) {
      await devices.revoke(s)
      s.flash('2fa', 'Authenticator app removed.')
    }
    return c.redirect('/settings/2fa', 303)
  })
  app.post('/settings/2fa/backup-codes', requireSession(), async (c) => {
    const s = c.get('session')
    try {
      const backupCodes = await otp.backupCodes.generate(s)
      const message = 'New backup codes made; the previous ones no longer work.'
      return c.html(twoFactorPage({ ...(await twoFactorState(s)), backupCodes, message }))
    } catch (err) {
      if (!(err instanceof AccessError)) throw err
      const error = 'Verify a code first: new backup codes need a recent verification.'
      return c.html(twoFactorPage({ ...(await twoFactorState(s)), error }), 401)
    }
  })
  app.post('/settings/2fa/trusted/revoke', requireSession(), async (c) => {
    const s = c.get('session')
    await devices.revoke(s)
    devices.forget(c)
    s.flash('2fa', 'No device is trusted any more.')
    return c.redirect('/settings/2fa', 303)
  })
  /**
   * Confirms an enrolment or verifies a code: six digits are a TOTP code, anything else a
   * backup code (both meet `requireFreshAuth({ methods: ['otp'] })`). A replaced factor ends the
   * trust of every device; a verification with the "don't ask again" box trusts this one.
   */
  const stepUp = async (
    c: Context<SessionEnv<DemoData>>,
    step: 'confirm' | 'verify',
    form: Record<string, unknown>,
  ) => {
    const s = c.get('session')
    if (step === 'confirm') {
      const replacing = await otp.isEnrolled(s)
      const result = await otp.confirmEnrolment(s, form.code)
      if (result.ok && replacing) await devices.revoke(s)
      return result
    }
    const code = form.code
    const result =
      typeof code === 'string' && /^\s*\d{6}\s*$/.test(code)
        ? await otp.verify(s, code)
        : await otp.backupCodes.verify(s, code)
    if (wantsTrust(form)) await devices.remember(c, s, result)
    return result
  }
  for (const step of ['confirm', 'verify'] as const) {
    app.post(`/settings/2fa/${step}`, requireSession(), async (c) => {
      const s = c.get('session')
      const form = await readForm(c)
      const result = await stepUp(c, step, form)
      if (result.ok && step === 'confirm') {
        // the enrolment offers backup codes: shown once, on this page
        const backupCodes = await otp.backupCodes.generate(s)
        const message = 'Authenticator app set up and verified.'
        return c.html(twoFactorPage({ ...(await twoFactorState(s)), backupCodes, message }))
      }
      if (result.ok) {
        const left = 'remaining' in result ? ` ${result.remaining} backup codes left.` : ''
        s.flash('2fa', `Verified.${left}`)
        return c.redirect('/settings/2fa', 303)
      }
      const error = refusal(result)
      return c.html(
        twoFactorPage({ ...(await twoFactorState(s)), error }),
        status(result.reason),
        retryAfter(result),
      )
    })
  }
  app.post('/api/2fa/enrol', requireSession(), async (c) => {
    const started = await enrol(c)
    if (started.ok) return c.json({ secret: started.secret, uri: started.uri })
    const refused = passwordRefused(started.checked)
    return c.json(
      { ok: false, reason: refused.reason, error: 'form field "password": your password' },
      refused.status,
      refused.headers,
    )
  })
  for (const step of ['confirm', 'verify'] as const) {
    app.post(`/api/2fa/${step}`, requireSession(), async (c) => {
      const result = await stepUp(c, step, await readForm(c))
      return result.ok ? c.json(result) : c.json(result, status(result.reason), retryAfter(result))
    })
  }
  // Backup codes: how many are left; a new set (needs a fresh verification, 401 without).
  app.get('/api/2fa/backup-codes', requireSession(), async (c) =>
    c.json({ remaining: await otp.backupCodes.remaining(c.get('session')) }),
  )
  app.post('/api/2fa/backup-codes', requireSession(), async (c) =>
    c.json({ codes: await otp.backupCodes.generate(c.get('session')) }),
  )
  app.post('/api/2fa/disable', requireSession(), async (c) => {
    const s = c.get('session')
    const result = await otp.disable(s)
    if (result.ok) await devices.revoke(s)
    return result.ok ? c.json(result) : c.json(result, 409)
  })
  app.post('/api/2fa/trusted/revoke', requireSession(), async (c) => {
    const s = c.get('session')
    await devices.revoke(s)
    devices.forget(c)
    return c.json({ ok: true })
  })

  // The sensitive operation: needs a second factor within the last 5 minutes.
  const newPassword = async (c: Context) => {
    const password = (await readForm(c)).password
    return typeof password === 'string' && password.length >= 12 && password.length <= 256
  }
  app.post('/api/password', requireFreshAuth(FRESH_AUTH), async (c) => {
    if (!(await newPassword(c)))
      return c.json({ error: 'form field "password": 12 to 256 characters' }, 400)
    // the demo keeps its fixed passwords; a real app stores a hash here, then:
    const others = await c.get('session').destroyOthers()
    return c.json({ ok: true, otherSessionsEnded: others })
  })
  // Changing where account recovery goes: always the code itself, never a trusted device.
  app.post('/api/email', requireFreshAuth(ALWAYS_FRESH), async (c) => {
    const email = (await readForm(c)).email
    if (typeof email !== 'string' || !/^[^\s@]{1,64}@[^\s@]{1,190}$/.test(email))
      return c.json({ error: 'form field "email": an e-mail address' }, 400)
    // the demo keeps no addresses; a real app stores it here
    return c.json({ ok: true })
  })
  app.get('/settings/password', requireSession(), (c) => c.html(passwordPage()))
  app.post('/settings/password', requireFreshAuth(FRESH_AUTH), async (c) => {
    if (!(await newPassword(c)))
      return c.html(passwordPage(undefined, 'Use 12 to 256 characters.'), 400)
    await c.get('session').destroyOthers()
    return c.html(passwordPage('Password changed.'))
  })

  app.get('/api/me', async (c) => {
    const info = await c.get('session').info()
    if (!info?.userId) return c.json({ error: 'not signed in' }, 401)
    return c.json({ user: info.userId, roles: info.roles })
  })

  // one atomic store call: concurrent clicks never lose a count
  app.post('/api/counter', async (c) =>
    c.json({ count: await c.get('session').increment('count') }),
  )
  app.post('/counter', async (c) => {
    await c.get('session').increment('count')
    return c.redirect('/', 303)
  })

  app.get('/api/sessions', async (c) => {
    const s = c.get('session')
    if (s.userId === undefined) return c.json({ error: 'not signed in' }, 401)
    return c.json({ sessions: await s.listSessions() })
  })

  app.delete('/api/sessions/:id', async (c) => {
    const s = c.get('session')
    if (s.userId === undefined) return c.json({ error: 'not signed in' }, 401)
    await s.revoke(c.req.param('id'))
    return c.json({ ok: true })
  })

  app.post('/api/logout-all', async (c) => {
    const s = c.get('session')
    if (s.userId === undefined) return c.json({ error: 'not signed in' }, 401)
    return c.json({ destroyed: await logoutEverywhere(c) })
  })

  app.put('/api/prefs/:name', async (c) => {
    const name = c.req.param('name')
    const form = await readForm(c)
    const value = form.value
    if (!PREF_NAME.test(name))
      return c.json({ error: 'preference names are 1-64 characters [A-Za-z0-9_-]' }, 400)
    if (typeof value !== 'string' || value.length > PREF_VALUE_MAX) {
      return c.json(
        { error: `form field "value" is required, at most ${PREF_VALUE_MAX} characters` },
        400,
      )
    }
    c.get('session').set(`pref.${name}`, value)
    return c.json({ ok: true })
  })

  app.get('/api/prefs', async (c) => {
    const prefs: Record<string, string> = {}
    for (const [field, value] of Object.entries(await c.get('session').all())) {
      if (field.startsWith('pref.')) prefs[field.slice(5)] = value as string
    }
    return c.json(prefs)
  })

  return app
}

const round = (ms: number) => Math.round(ms * 100) / 100

type StoreSample = { ok: true; health: StoreHealth } | { ok: false }

/** A session count the store reports in its ping details, if any. */
function countFromDetails(details: Record<string, unknown> | undefined): number | undefined {
  for (const name of ['sessions', 'keys']) {
    const value = details?.[name]
    if (typeof value === 'number') return value
  }
  return undefined
}

/**
 * Replication and failover state from the store's ping details (Redis stores): the role of the
 * server we talk to, its replicas, the link to its master, and `degraded` when the session store
 * cannot take writes safely (connected to a replica, link down) or has no replica left.
 */
function replicationOf(health: StoreHealth): { replication?: Record<string, unknown> } {
  const d = health.details ?? {}
  if (d.role === undefined && d.mode === undefined) return {}
  const { mode, role, replicas, masterLinkStatus, masters, status } = d as Record<string, unknown>
  const degraded =
    (role !== undefined && role !== 'master') ||
    masterLinkStatus === 'down' ||
    (mode === 'sentinel' && replicas === 0) ||
    (mode === 'cluster' && status !== 'ready')
  return {
    replication: Object.fromEntries(
      Object.entries({ mode, role, replicas, masterLinkStatus, masters, status, degraded }).filter(
        ([, v]) => v !== undefined,
      ),
    ),
  }
}
