// esbuild bundles the stylesheet the entry point imports; to the type-checker it is an opaque module.
declare module '*.css';
