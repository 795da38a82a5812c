// Entry point of ocf:vigil:mysql (bundled to dist/resource.d/vigil/mysql).
import { runAgent } from '../../lib/ocf/agent.ts';
import { agent } from './agent.ts';

void runAgent(agent);
