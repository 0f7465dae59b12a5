// Package browsertest drives the operator console in a real headless
// Chromium (chromedp) against a real `omadm demo` server and its simulated
// devices: sign in, find a device, browse and edit its tree, run a firmware
// update and watch it finish. It holds only tests; they skip when no
// Chromium is installed (CI installs Debian's chromium).
//
// Environment: OMADM_CHROMIUM names the browser binary (default: chromium,
// chromium-browser or google-chrome from PATH); OMADM_SCREENSHOTS names a
// directory that receives a screenshot of each view and, when a test fails,
// of the page it failed on.
package browsertest
