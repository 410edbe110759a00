#!/usr/bin/env node
// Launcher of the `auditrail` binary, committed executable (tsc does not set the mode of dist/bin.js): runs the built CLI.
'use strict';
require('../dist/bin.js');
