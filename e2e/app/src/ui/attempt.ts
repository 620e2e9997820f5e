// Runs a request from a form or button, keeping its error for an ErrorLine.
import { useState } from 'react';
import type { ApiError } from '../api.ts';

export function useAttempt() {
  const [error, setError] = useState<ApiError | null>(null);
  const attempt = async (action: () => Promise<unknown>, after: () => void = () => undefined) => {
    setError(null);
    try {
      await action();
      after();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return { error, attempt };
}
