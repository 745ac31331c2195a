// Page-wide messages: one error banner (role=alert) and one notice line (role=status).
let unauthorized = () => {};

export function onUnauthorized(handler) {
  unauthorized = handler;
}

function banner(id, text) {
  const node = document.getElementById(id);
  node.textContent = text;
  node.hidden = false;
}

export function showError(error) {
  document.getElementById("notice").hidden = true;
  banner("alert", error instanceof Error ? error.message : String(error));
  if (error?.status === 401) unauthorized();
}

export function showNotice(text) {
  document.getElementById("alert").hidden = true;
  banner("notice", text);
}

export function clearMessages() {
  document.getElementById("alert").hidden = true;
  document.getElementById("notice").hidden = true;
}

// For event handlers: an error goes to the banner instead of the console.
export function guard(handler) {
  return async (...args) => {
    try {
      await handler(...args);
    } catch (error) {
      showError(error);
    }
  };
}
