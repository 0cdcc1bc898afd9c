// A REST toolkit over `http`: a client with its base URL and auth, lists
// read page by page, and the adapter of a usual REST collection.

export { Rest } from "./client.js";
export { Collection } from "./collection.js";
export { MAX_PAGES, Paging, nextLink, paginate, pointer } from "./paging.js";
