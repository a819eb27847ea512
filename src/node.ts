/** Node-only helpers: a Dawn device with a software fallback, and PNG/JPEG files. */
export { requestNodeDevice, isSoftwareAdapter, describeAdapter, type NodeDeviceOptions } from './gpu/node-device.js';
export { decodeImageFile, decodeImageBytes, encodePng } from './model/image-node.js';
export { filesFromPath } from './model/loaders/files.js';
