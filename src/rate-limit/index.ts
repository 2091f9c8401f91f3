/** Rate limiting: the middleware, the limiter under it, and the unforgeable client key. */
export { rateLimit, rateLimitHeaders, type RateLimitOptions } from './middleware.js'
export {
  rateLimiter,
  MAX_RATE_KEY_LENGTH,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimitResult,
} from './limiter.js'
export { clientAddress, type ClientAddressOptions } from './client.js'
