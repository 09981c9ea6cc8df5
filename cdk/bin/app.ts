#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildNotesApp } from '../lib/notes-app';

// Context: -c arch=arm64 (default x86_64), -c allowedOrigins=https://a.example,http://localhost:5173
const app = new App();
buildNotesApp(app);
app.synth();
