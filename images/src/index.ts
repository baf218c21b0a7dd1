export { buildImages, type BuildOptions } from './build.js';
export { KERNEL_CMDLINE } from './boot-config.js';
export { cacheDir, diskImagePath, imagePaths, initramfsPath, isoPath, kernelPath, memtestDiskPath, type ImagePaths } from './paths.js';
