/**
 * Prepares what a real deployment already has: an organisation CA (the trust store), a
 * publisher certificate, the sample plugin packed and signed by that publisher, and a
 * plugin-manager.yaml. Everything goes into a fresh temporary directory.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRootCa, encodePem, generateKeyPair, issueCertificate, packDirectory, signPackage } from '@forgeone/plugin-manager/signing';

/** Where the example's files are. */
export interface Workspace {
  readonly dir: string;
  readonly config: string;
  readonly package: string;
}

/** Creates the workspace; `backend` is written into the configuration. */
export async function setUp(backend: 'inline' | 'pool'): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-embedding-'));
  const root = createRootCa({ name: 'Example Root CA' });
  const publisher = generateKeyPair('ed25519');
  const { certificate } = issueCertificate({ certificate: root.certificate, key: root.key, chain: [] }, { publicKey: publisher.publicKey, name: 'Example Publisher' });
  await writeFile(join(dir, 'trust.pem'), encodePem('CERTIFICATE', root.certificate.der));

  const sample = fileURLToPath(new URL('../../sample-plugin', import.meta.url));
  const packed = await packDirectory(sample);
  const signed = await signPackage(packed.bytes, { key: publisher, certificate: certificate.der });
  const packagePath = join(dir, 'sample-plugin-0.1.0.forgepkg');
  await writeFile(packagePath, signed.bytes);

  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    `plugin_manager:
  plugin_directory: plugins
  temp_directory: tmp
  default_timeout: 5s
  security:
    trust_store: trust.pem
    # inline and pool run plugins in this process: the operator opts out of confinement.
    namespace_isolation: false
  audit:
    path: audit/audit.log
    checkpoint_key: audit/checkpoint-key.pem
  runtime:
    backend: ${backend}
    pool_size: 1
`,
  );
  return { dir, config, package: packagePath };
}
