// Entry point of dist/sbin/fence_ssh.
import { runFenceAgent } from '../../lib/fence/agent.ts';
import { fenceSsh } from './agent.ts';

void runFenceAgent(fenceSsh);
