import type { ExecutionContext } from 'hono'
import { fetchDemo, type Env } from '../demo/worker.js'

/** The parts of the Pages Functions context this entry uses. */
interface PagesContext extends ExecutionContext {
  request: Request
  env: Env
}

/** The demo as Cloudflare Pages Functions: every path goes to the same app as the Worker. */
export const onRequest = (context: PagesContext): Response | Promise<Response> =>
  fetchDemo(context.request, context.env, context)
