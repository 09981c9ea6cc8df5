import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { AppSettings } from './config';
import { contentSecurityPolicy, inlineHashesOfBuild } from './csp';
import { resourceName } from './naming';

export interface FrontendStackProps extends StackProps {
  readonly settings: AppSettings;
}

/** Where the deployed app connects: this region's HTTP and WebSocket APIs (created after this stack). */
export function apiConnectSources(region: string, urlSuffix: string): string[] {
  return [`https://*.execute-api.${region}.${urlSuffix}`, `wss://*.execute-api.${region}.${urlSuffix}`];
}

/**
 * Hosting for the static frontend: a private S3 bucket behind CloudFront with origin access
 * control (OAC). Its content (the build and /config.json) is deployed by SiteStack, after the
 * backend, because /config.json needs the API URLs while the API's CORS needs this origin.
 */
export class FrontendStack extends Stack {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** https://<custom domain> if there is one, else https://<distribution domain>: where people open the app. */
  public readonly siteOrigin: string;
  /** Every origin that serves the app (the distribution's own domain, and the custom one): all allowed by CORS. */
  public readonly siteOrigins: string[];
  /** The Content-Security-Policy header value CloudFront adds. */
  public readonly contentSecurityPolicy: string;

  constructor(scope: Construct, id: string, props: FrontendStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const domain = settings.domain;

    this.bucket = new s3.Bucket(this, 'SiteBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      // The content is a build output that can be redeployed at any time.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    NagSuppressions.addResourceSuppressions(this.bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'The bucket only holds the public build of the single-page app, read through CloudFront; S3 server access logs would add a second bucket and cost without telling anything the CloudFront metrics do not.',
      },
    ]);

    // The APIs are in the backend stack, which needs this stack's domain for CORS: the policy names
    // the region's execute-api hosts rather than the APIs themselves.
    this.contentSecurityPolicy = contentSecurityPolicy({
      connectSources: apiConnectSources(this.region, this.urlSuffix),
      inline: inlineHashesOfBuild(settings.frontendBuildDir),
    });
    const securityHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: `Security headers of the ${resourceName(settings.stage)} app`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: this.contentSecurityPolicy, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Notes suite frontend (${settings.stage})`,
      ...(domain
        ? {
            domainNames: [domain.domainName],
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            sslSupportMethod: cloudfront.SSLMethod.SNI,
          }
        : {}),
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        compress: true,
      },
      additionalBehaviors: {
        // The runtime configuration changes with every backend deploy: never cache it.
        '/config.json': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: securityHeaders,
        },
      },
      // Single-page app: unknown paths are routed client-side.
      errorResponses: [
        { httpStatus: 403, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) },
        { httpStatus: 404, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) },
      ],
    });
    NagSuppressions.addResourceSuppressions(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason: 'The notes suite is meant for users anywhere; there is no country to block.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No AWS WAF web ACL: the distribution serves only static files; a web ACL costs a fixed monthly fee and can be attached later without changes to the app.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'CloudFront standard logs need an ACL-enabled log bucket; the distribution only serves static files and its CloudWatch metrics are enough for this app.',
      },
      ...(domain
        ? []
        : [
            {
              id: 'AwsSolutions-CFR4',
              reason:
                'Without a custom domain the distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the viewer security policy (TLSv1); with -c domainName the distribution has its own certificate and TLSv1.2_2021.',
            },
          ]),
    ]);

    if (domain?.hostedZone) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
        hostedZoneId: domain.hostedZone.id,
        zoneName: domain.hostedZone.name,
      });
      const target = route53.RecordTarget.fromAlias(new route53Targets.CloudFrontTarget(this.distribution));
      new route53.ARecord(this, 'AliasA', { zone, recordName: domain.domainName, target });
      new route53.AaaaRecord(this, 'AliasAAAA', { zone, recordName: domain.domainName, target });
    }

    const distributionOrigin = `https://${this.distribution.distributionDomainName}`;
    this.siteOrigin = domain ? `https://${domain.domainName}` : distributionOrigin;
    this.siteOrigins = domain ? [this.siteOrigin, distributionOrigin] : [distributionOrigin];
    new CfnOutput(this, 'SiteUrl', { value: this.siteOrigin });
    new CfnOutput(this, 'SiteBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'DistributionId', { value: this.distribution.distributionId });
  }
}
