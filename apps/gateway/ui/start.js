'use strict';

// Loaded last: every page has registered itself.
window.addEventListener('hashchange', render);
render();
