// The package's entry for asc, which resolves `import ... from '@forgeone/pdk'` to
// node_modules/@forgeone/pdk/index.ts. The sources are in assembly/.
export * from './assembly/index';
