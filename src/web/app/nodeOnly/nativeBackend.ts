/** In the browser the native addon does not exist: the backend picker falls back to `ts`. */
export function loadNativeAddon(): Error {
  return new Error('the native backend runs in Node only');
}

export class NativeBackend {
  constructor() {
    throw new Error('the native backend runs in Node only');
  }
}
