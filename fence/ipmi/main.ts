// Entry point of dist/sbin/fence_ipmi.
import { runFenceAgent } from '../../lib/fence/agent.ts';
import { fenceIpmi } from './agent.ts';

void runFenceAgent(fenceIpmi);
