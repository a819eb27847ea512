// wgsl_reflect's "main" (wgsl_reflect.node.js) is CommonJS inside a "type": "module" package and
// does not load in Node; its ES module build is the same library and loads everywhere.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
