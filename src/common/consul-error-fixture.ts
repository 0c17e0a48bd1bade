import { ConsulHttpError } from './consul-error.js';

/** For parser specs: the status and text of the ConsulHttpError `run` throws (anything else is rethrown). */
export function consulFailure(run: () => unknown): { status: number; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ConsulHttpError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('expected a ConsulHttpError');
}
