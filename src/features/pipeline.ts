/**
 * The features between routing and the provider, in one place, on core types only:
 *
 *   request:  strip progress markers from history -> images (fetch, validate, normalise,
 *             number, de-duplicate) -> XML tool mode or tool-call emulation
 *   stream:   tool-call extraction -> progress markers
 *
 * Providers that call client tools themselves (API providers) get the tools untouched.
 */
import type { Provider } from '../core/provider.js';
import { joinSystem, type ChatRequest } from '../core/request.js';
import type { StreamPart } from '../core/stream.js';
import { emulateTools } from './tools/index.js';
import { detectXmlTools, XML_INSTRUCTION, type Detection } from './xml-tools/detect.js';
import { stripProgress, withProgress, type ProgressTiming } from './progress.js';
import { prepareImages, type ImageOptions } from './images/index.js';
import { formatInstruction } from './response-format.js';

export interface FeatureOptions {
  progress: ProgressTiming;
  xml: { threshold: number; knownTools: readonly string[] };
  images: ImageOptions;
}

export interface Plan {
  request: ChatRequest;
  transform(parts: AsyncIterable<StreamPart>): AsyncIterable<StreamPart>;
  /** what was decided, for the request log */
  decided: { xml?: Detection; emulatedTools?: number };
}

export async function planFeatures(req: ChatRequest, provider: Pick<Provider, 'nativeTools' | 'structuredOutput'>, opts: FeatureOptions, signal?: AbortSignal): Promise<Plan> {
  let request: ChatRequest = await prepareImages({ ...req, messages: stripProgress(req.messages) }, opts.images, signal);
  if (request.responseFormat && !provider.structuredOutput) request = { ...request, system: joinSystem(request.system, formatInstruction(request.responseFormat)) };
  const steps: ((p: AsyncIterable<StreamPart>) => AsyncIterable<StreamPart>)[] = [];
  const decided: Plan['decided'] = {};

  if (!provider.nativeTools) {
    const xml = detectXmlTools(request, opts.xml);
    decided.xml = xml;
    if (xml.xml) {
      // the client's own prompt defines the tools and their XML; its XML passes through as text
      request = { ...request, system: joinSystem(request.system, XML_INSTRUCTION) };
    } else {
      const emulation = emulateTools(request);
      if (emulation) {
        request = emulation.request;
        steps.push(emulation.transform);
        decided.emulatedTools = req.tools?.length ?? 0;
      }
    }
  }
  if (req.progress && req.stream) steps.push((p) => withProgress(p, opts.progress));

  return {
    request,
    decided,
    transform: (parts) => steps.reduce((acc, step) => step(acc), parts),
  };
}

export function featureOptions(config: {
  PROGRESS_INTERVAL: number;
  PROGRESS_MAX_INTERVAL: number;
  XML_CONFIDENCE_THRESHOLD: number;
  XML_KNOWN_TOOLS: string[];
  IMAGE_MAX_BYTES: number;
  IMAGE_MAX_DIMENSION: number;
  IMAGE_MAX_COUNT: number;
  IMAGE_FETCH_TIMEOUT: number;
  IMAGE_FETCH_MAX_BYTES: number;
  IMAGE_FETCH_ALLOW_PRIVATE: boolean;
}): FeatureOptions {
  return {
    progress: { firstMs: config.PROGRESS_INTERVAL * 1000, maxMs: config.PROGRESS_MAX_INTERVAL * 1000 },
    xml: { threshold: config.XML_CONFIDENCE_THRESHOLD, knownTools: config.XML_KNOWN_TOOLS },
    images: {
      maxBytes: config.IMAGE_MAX_BYTES,
      maxDimension: config.IMAGE_MAX_DIMENSION,
      maxCount: config.IMAGE_MAX_COUNT,
      fetch: { timeoutMs: config.IMAGE_FETCH_TIMEOUT * 1000, maxBytes: config.IMAGE_FETCH_MAX_BYTES, allowPrivate: config.IMAGE_FETCH_ALLOW_PRIVATE },
    },
  };
}
