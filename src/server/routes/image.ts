/** GET /image/:file — a generated image from the cache; any other name is a 404. */
import type { RequestHandler } from 'express';
import type { ImageCache } from '../../features/image-cache.js';

export function imageRoute(images: ImageCache): RequestHandler {
  return (req, res) => {
    const found = images.resolve(String(req.params.file ?? ''));
    if (!found) {
      res.status(404).json({ error: { message: 'No such image (generated images are kept for IMAGE_CACHE_TTL_MINUTES).', type: 'not_found_error', code: 'image_not_found' } });
      return;
    }
    res.set({ 'Content-Type': found.contentType, 'Cache-Control': 'private, max-age=3600', 'X-Content-Type-Options': 'nosniff' });
    res.sendFile(found.path);
  };
}
