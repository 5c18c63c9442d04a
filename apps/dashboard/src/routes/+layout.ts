// A client-only app: the server ships a static fallback page and the API answers every question.
export const ssr = false;
export const prerender = false;
