/** `npm run gateway`: the gateway server, configured by the environment (see `./run.ts`). */
import { runGatewayFrom } from './run.js'

void runGatewayFrom(process.env)
