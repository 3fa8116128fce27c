/** Shared by the tests that run simulated vLLM replicas (examples/servers/vllm-simulator.ts). */
import type { Server } from 'node:http';
import type { SimulatedEngine } from '../../examples/servers/vllm-simulator.ts';

/** A running simulated replica. */
export type Replica = { engine: SimulatedEngine; server: Server; port: number };

/** A short chat completion for the simulator's model, as `call()` options: a system prompt and a question. */
export function simulatorChat(system: string, question: string) {
  return {
    body: JSON.stringify({
      model: 'sim-7b',
      max_tokens: 2,
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: question },
      ],
    }),
    headers: { 'content-type': 'application/json' },
  };
}
