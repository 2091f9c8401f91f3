/** `npm run gateway`: the gateway server, configured by the environment (see `./run.ts`). */
import { runGateway } from './run.js'

void runGateway(process.env)
