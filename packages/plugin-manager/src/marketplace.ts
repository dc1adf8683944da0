/**
 * @forgeone/plugin-manager/marketplace: a TUF-protected marketplace index
 * (docs/marketplace.md): `forge marketplace init|publish|revoke|serve` and `forge search`.
 */
export * from './registry/marketplace/index.js';
