import { createContext } from 'preact';
import { useCallback, useContext, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { ApiError } from './api.js';

interface Toast {
  id: number;
  kind: 'error' | 'success';
  title: string;
  text: string;
}

interface Toaster {
  error(e: unknown, title?: string): void;
  success(text: string): void;
}

const Ctx = createContext<Toaster>({ error: () => undefined, success: () => undefined });

export const useToast = (): Toaster => useContext(Ctx);

let next = 1;

/** Errors and confirmations in the corner; an error stays until closed, a success fades after a few seconds. */
export function ToastHost({ children }: { children: ComponentChildren }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (t: Omit<Toast, 'id'>) => {
      const id = next++;
      setToasts((ts) => [...ts.slice(-4), { ...t, id }]);
      if (t.kind === 'success') setTimeout(() => dismiss(id), 5000);
    },
    [dismiss],
  );
  const api: Toaster = {
    error: (e, title) => push({ kind: 'error', title: title ?? (e instanceof ApiError ? e.code : 'Error'), text: errorText(e) }),
    success: (text) => push({ kind: 'success', title: 'Done', text }),
  };
  return (
    <Ctx.Provider value={api}>
      {children}
      <div class="toasts" role="region" aria-label="Notifications">
        {toasts.map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
            <div class="toast-body">
              <strong>{t.title}</strong>
              <p>{t.text}</p>
            </div>
            <button class="toast-close" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
