// `auditrail keygen --out DIR`: writes an Ed25519 key pair for signed checkpoints (private key 0600).
import { writeSigningKeys } from '@auditrail/core';
import type { Command } from 'commander';

/** Adds the keygen command. */
export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('generate an Ed25519 key pair for signed checkpoints')
    .requiredOption('--out <dir>', 'directory for audit_signing_key.pem (0600) and audit_signing_key.pub.pem (created 0700)')
    .option('--force', 'replace a key pair already in the directory')
    .addHelpText(
      'after',
      `
Give the private key to the writers (new AuditLogger({ checkpoints: { privateKey: '<dir>/audit_signing_key.pem' } }))
and the public key to whoever verifies (auditrail verify DIR --public-key <dir>/audit_signing_key.pub.pem).`,
    )
    .action((flags: { out: string; force?: boolean }) => {
      const written = writeSigningKeys(flags.out, flags.force ?? false);
      process.stdout.write(`Private key: ${written.privateKeyPath} (mode 0600: keep it secret)\n`);
      process.stdout.write(`Public key:  ${written.publicKeyPath}\n`);
      process.stdout.write(`Key id:      ${written.keyId}\n`);
    });
}
