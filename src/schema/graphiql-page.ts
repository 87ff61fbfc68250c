// GraphiQL with every asset inside the page (@graphql-yoga/render-graphiql), so /graphql works with no
// internet; yoga's own renderer loads it from a CDN. Imported on first use: it is 9 MB of script.
import type { GraphiQLOptions } from 'graphql-yoga';

let renderer: Promise<(options: GraphiQLOptions) => string> | undefined;

/** The GraphiQL page for yoga's `renderGraphiQL` option. */
export async function renderLocalGraphiQL(options: GraphiQLOptions): Promise<string> {
  renderer ??= import('@graphql-yoga/render-graphiql').then((module) => module.renderGraphiQL);
  return (await renderer)(options);
}
