import type { BlockDevice } from './block-device.js';
import { resolveImagePath } from './image-path.js';
import { OverlayImage } from './overlay-image.js';
import { RawImage } from './raw-image.js';

export type ImageMode = 'ro' | 'rw' | 'overlay';

export interface OpenImageOptions {
  dataDir: string;
  /** Image file name, relative to dataDir (or absolute inside it). */
  image: string;
  mode: ImageMode;
  /** Overlay file name for mode 'overlay' (default `<image>.overlay`), inside dataDir. */
  overlay?: string;
}

/** Open a disk or CD image confined to the data directory. Throws ImageError with a clear message. */
export function openImage(options: OpenImageOptions): BlockDevice {
  const imagePath = resolveImagePath(options.dataDir, options.image);
  switch (options.mode) {
    case 'ro':
      return new RawImage(imagePath, { readOnly: true });
    case 'rw':
      return new RawImage(imagePath, { readOnly: false });
    case 'overlay': {
      const overlayPath = resolveImagePath(options.dataDir, options.overlay ?? `${options.image}.overlay`, false);
      return new OverlayImage(imagePath, overlayPath);
    }
  }
}
