// webgpu-xai is an ES module package: this file answers require() with a clear message instead
// of Node's ERR_PACKAGE_PATH_NOT_EXPORTED or ERR_REQUIRE_ESM.
throw new Error(
  "webgpu-xai is ESM-only: use `import { Explainer } from 'webgpu-xai'` (or `await import('webgpu-xai')` from CommonJS) instead of require(). See https://github.com/webgpu-xai/webgpu-xai#installing",
);
