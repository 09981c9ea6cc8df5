// A single-page app: no server rendering, no prerendering. adapter-static writes
// build/index.html as the fallback page every route starts from.
export const ssr = false;
export const prerender = false;
