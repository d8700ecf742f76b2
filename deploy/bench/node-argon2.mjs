// Reference: the Node stack's Argon2id (@node-rs/argon2) at the same parameters.
import { hash } from '@node-rs/argon2';
const opts = { memoryCost: 19456, timeCost: 2, parallelism: 1, algorithm: 2 };
const rounds = Number(process.argv[2] || 40);
await hash('warm-up', opts);
const started = performance.now();
for (let i = 0; i < rounds; i++) await hash('correct horse battery staple', opts);
console.log(JSON.stringify({ rounds, nodeRsArgon2Ms: (performance.now() - started) / rounds }));
