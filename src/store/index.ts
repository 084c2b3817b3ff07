export { Store, type StoreOptions, type Change, type Db, type Tx } from './store.js';
export * as repos from './repos.js';
export type * from './repos.js';
